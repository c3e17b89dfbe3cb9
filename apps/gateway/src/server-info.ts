/** What ServerMetadata reports (OIP REST and gRPC). */
export const GATEWAY_NAME = 'servable';
export const GATEWAY_VERSION = '0.1.0';
