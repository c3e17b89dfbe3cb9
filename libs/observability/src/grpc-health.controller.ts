import { Controller, UseFilters } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { HealthRegistry, grpcHealthV1 } from '@servable/contracts/grpc';
import { GrpcExceptionFilter } from './grpc-exception.filter';

/**
 * grpc.health.v1 (Check and Watch) over the app's HealthRegistry, for the
 * whole server ("") and each service by its full name. Every app serves the
 * same protocol, so it is one controller; the app provides the registry.
 */
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
