import type { ApiName } from '../inference/prediction.types';

/** An inference call as the request counter labels it: the model named by the call, and its API. */
export interface InferenceCall {
  model: string;
  api: ApiName;
}

// /v1/models/{model}[/versions/{v} | /labels/{l}]:{verb} and /v2/models/{model}[/versions/{v}]/infer.
const TF_REST = /^\/v1\/models\/([^/:?]+)(?:\/(?:versions|labels)\/[^/:?]+)?:(classify|predict)\/?(?:\?|$)/i;
const OIP_REST = /^\/v2\/models\/([^/?]+)(?:\/versions\/[^/?]+)?\/infer\/?(?:\?|$)/i;

/** The inference call a REST URL makes, or undefined for any other route (admin, metadata, tokenize). */
export function restInferenceCall(url: string): InferenceCall | undefined {
  const tf = TF_REST.exec(url);
  // :classify answers TF Serving's shape for "examples", but which one a refused body meant is unknown: product.
  if (tf) return { model: decodeURIComponent(tf[1]), api: tf[2].toLowerCase() === 'predict' ? 'tfserving' : 'product' };
  const oip = OIP_REST.exec(url);
  return oip ? { model: decodeURIComponent(oip[1]), api: 'oip' } : undefined;
}

const GRPC_INFERENCE: Record<string, ApiName> = {
  '/tensorflow.serving.PredictionService/Predict': 'grpc',
  '/tensorflow.serving.PredictionService/Classify': 'grpc',
  '/servable.gateway.v1.GatewayService/Classify': 'grpc',
  '/servable.gateway.v1.GatewayService/Predict': 'grpc',
  '/inference.GRPCInferenceService/ModelInfer': 'grpc_oip',
};

/** The inference call a gRPC method makes, with the model its request names, or undefined for any other method. */
export function grpcInferenceCall(path: string, request: unknown): InferenceCall | undefined {
  const api = GRPC_INFERENCE[path];
  if (!api) return undefined;
  const r = request as { modelSpec?: { name?: unknown } | null; modelName?: unknown } | undefined;
  const model = r?.modelSpec?.name ?? r?.modelName;
  return { model: typeof model === 'string' ? model : '', api };
}
