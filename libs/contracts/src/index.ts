export { ErrorCode, HTTP_STATUS, GRPC_STATUS, errorCodeFromGrpcStatus, isErrorCode } from './error-code';
export { ServableError, errorBodySchema, type ErrorBody, type ServableErrorOptions } from './servable-error';
export { INT32_MAX, describeIssues, issuePath, shownValue } from './validation';
export { isWellFormedText, utf8Text } from './text';
export {
  int32ToBytes,
  bytesToInt32,
  float32ToBytes,
  bytesToFloat32,
  packRagged,
  unpackRagged,
  type Ragged,
} from './tensor-codec';
export { sha256Hex } from './hash';
