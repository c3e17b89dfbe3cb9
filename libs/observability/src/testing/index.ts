export { freePort } from './free-port';
export { grpcError } from './grpc-error';
export { waitFor } from './wait-for';
