import { Controller, UseFilters } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { HealthRegistry, grpcHealthV1 } from '@servable/contracts/grpc';
import { GrpcExceptionFilter } from '@servable/observability';

/** grpc.health.v1 of the gateway's own gRPC server. */
@Controller()
@UseFilters(GrpcExceptionFilter)
@grpcHealthV1.HealthControllerMethods()
export class GrpcHealthController implements grpcHealthV1.HealthController {
  constructor(private readonly health: HealthRegistry) {}

  check(request: grpcHealthV1.HealthCheckRequest): grpcHealthV1.HealthCheckResponse {
    return { status: this.health.check(request.service) };
  }

  watch(request: grpcHealthV1.HealthCheckRequest): Observable<grpcHealthV1.HealthCheckResponse> {
    return this.health.watch(request.service);
  }
}
