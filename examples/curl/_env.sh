# Shared by the curl examples: where the gateway is, and the key (if auth is on).
SERVABLE_URL="${SERVABLE_URL:-http://127.0.0.1:8501}"
MODEL="${MODEL:-spam}"
AUTH=()
SERVABLE_KEY="${SERVABLE_KEY:-${KEY:-}}"  # the README exports KEY
if [ -n "${SERVABLE_KEY}" ]; then AUTH=(-H "Authorization: Bearer ${SERVABLE_KEY}"); fi
# --fail-with-body: a 4xx/5xx exits non-zero and still prints the {"error", "code"} body.
CURL=(curl -sS --fail-with-body "${AUTH[@]}")
