#!/usr/bin/env bash
# TF Serving's REST API, as its clients call it: status, metadata, predict (row and columnar) and classify.
set -euo pipefail
. "$(dirname "$0")/_env.sh"
"${CURL[@]}" "$SERVABLE_URL/v1/models/$MODEL"; echo
"${CURL[@]}" "$SERVABLE_URL/v1/models/$MODEL/metadata"; echo
"${CURL[@]}" -X POST "$SERVABLE_URL/v1/models/$MODEL:predict" -d '{"instances": ["WIN a FREE cruise, click now!!!"]}'; echo
"${CURL[@]}" -X POST "$SERVABLE_URL/v1/models/$MODEL:predict" -d '{"inputs": {"text": ["Lunch at noon tomorrow?"]}}'; echo
"${CURL[@]}" -X POST "$SERVABLE_URL/v1/models/$MODEL:classify" -d '{"examples": [{"text": "WIN a FREE cruise"}]}'; echo
