/** What ServerMetadata reports (OIP REST and gRPC). */
export const GATEWAY_NAME = 'servable';
export const GATEWAY_VERSION = '0.1.0';

/**
 * OIP extensions the REST API serves, under Triton's names, so tritonclient and
 * KServe tooling can check for them: binary tensors and the model repository.
 */
export const OIP_REST_EXTENSIONS = ['binary_tensor_data', 'model_repository'];
