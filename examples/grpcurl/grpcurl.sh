#!/usr/bin/env bash
# grpcurl against the gateway's gRPC port, with no .proto files: server reflection
# describes every service. (grpcurl is not packaged by Debian; get it from
# https://github.com/fullstorydev/grpcurl/releases.) The Node scripts in ../node
# make the same calls and run in CI.
set -euo pipefail
GRPC="${SERVABLE_GRPC:-127.0.0.1:8500}"
MODEL="${MODEL:-spam}"
AUTH=()
SERVABLE_KEY="${SERVABLE_KEY:-${KEY:-}}"  # the README exports KEY
if [ -n "${SERVABLE_KEY}" ]; then AUTH=(-H "authorization: Bearer ${SERVABLE_KEY}"); fi

grpcurl -plaintext "$GRPC" list
grpcurl -plaintext "$GRPC" describe tensorflow.serving.PredictionService

# Servable's own gRPC API.
grpcurl -plaintext "${AUTH[@]}" -d "{\"model_spec\": {\"name\": \"$MODEL\"}, \"texts\": [\"WIN a FREE cruise\"]}" \
  "$GRPC" servable.gateway.v1.GatewayService/Classify

# TF Serving's PredictionService: a DT_STRING tensor (string_val is bytes, so base64 in JSON).
grpcurl -plaintext "${AUTH[@]}" -d "{\"model_spec\": {\"name\": \"$MODEL\"}, \"inputs\": {\"text\": {\"dtype\": \"DT_STRING\", \"tensor_shape\": {\"dim\": [{\"size\": 1}]}, \"string_val\": [\"$(printf 'WIN a FREE cruise' | base64)\"]}}}" \
  "$GRPC" tensorflow.serving.PredictionService/Predict
grpcurl -plaintext "${AUTH[@]}" -d "{\"model_spec\": {\"name\": \"$MODEL\"}}" "$GRPC" tensorflow.serving.ModelService/GetModelStatus

# KServe / Triton's GRPCInferenceService.
grpcurl -plaintext "${AUTH[@]}" -d "{\"model_name\": \"$MODEL\", \"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"contents\": {\"bytes_contents\": [\"$(printf 'Lunch at noon' | base64)\"]}}]}" \
  "$GRPC" inference.GRPCInferenceService/ModelInfer
