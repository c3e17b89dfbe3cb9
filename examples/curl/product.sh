#!/usr/bin/env bash
# Servable's own REST API: classify texts into labels with scores.
set -euo pipefail
. "$(dirname "$0")/_env.sh"
"${CURL[@]}" -X POST "$SERVABLE_URL/v1/models/$MODEL:classify" -H 'content-type: application/json' \
  -d '{"texts": ["WIN a FREE cruise, click now!!!", "Lunch at noon tomorrow?"]}'
echo
