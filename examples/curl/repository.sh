#!/usr/bin/env bash
# The OIP model repository extension (needs an operator key): list versions, load (pin) and unload (unpin).
set -euo pipefail
. "$(dirname "$0")/_env.sh"
"${CURL[@]}" -X POST "$SERVABLE_URL/v2/repository/index" -H 'content-type: application/json' -d '{}'; echo
"${CURL[@]}" -X POST "$SERVABLE_URL/v2/repository/models/$MODEL/load" -H 'content-type: application/json' -d '{}'; echo
"${CURL[@]}" -X POST "$SERVABLE_URL/v2/repository/index" -H 'content-type: application/json' -d '{"ready": true}'; echo
