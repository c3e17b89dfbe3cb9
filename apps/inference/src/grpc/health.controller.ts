import { Controller } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { HealthRegistry, grpcHealthV1 } from '@servable/contracts/grpc';

/** grpc.health.v1 for the whole server ("") and for the inference service by its full name. */
@Controller()
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
