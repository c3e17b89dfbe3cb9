#!/usr/bin/env bash
# The Open Inference Protocol v2 (KServe, Triton) over REST: server and model metadata,
# a JSON infer, and a binary-tensor infer the way tritonclient.http sends one.
set -euo pipefail
. "$(dirname "$0")/_env.sh"
"${CURL[@]}" "$SERVABLE_URL/v2"; echo
"${CURL[@]}" "$SERVABLE_URL/v2/models/$MODEL"; echo
"${CURL[@]}" -X POST "$SERVABLE_URL/v2/models/$MODEL/infer" -H 'content-type: application/json' \
  -d '{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["WIN a FREE cruise, click now!!!"]}]}'
echo

# Binary tensor data: a JSON header of Inference-Header-Content-Length bytes, then the
# BYTES tensor (4-byte little-endian length + UTF-8). Outputs are asked for as JSON here.
text='Lunch at noon tomorrow?'
# Lengths in bytes, not characters (${#text} counts characters in a UTF-8 locale): any text works.
bytes=$(( $(printf '%s' "$text" | wc -c) ))
header="{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"parameters\": {\"binary_data_size\": $((4 + bytes))}}], \"outputs\": [{\"name\": \"probabilities\", \"parameters\": {\"binary_data\": false}}]}"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
printf '%s' "$header" > "$body"
printf "\\x$(printf %02x $((bytes & 255)))\\x$(printf %02x $((bytes >> 8 & 255)))\\x00\\x00" >> "$body"
printf '%s' "$text" >> "$body"
"${CURL[@]}" -X POST "$SERVABLE_URL/v2/models/$MODEL/infer" -H 'content-type: application/octet-stream' \
  -H "Inference-Header-Content-Length: $(( $(printf '%s' "$header" | wc -c) ))" --data-binary "@$body"
echo
