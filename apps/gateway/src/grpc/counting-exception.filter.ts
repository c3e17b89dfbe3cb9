import { Catch, Injectable, type ArgumentsHost } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import type { Observable } from 'rxjs';
import { ErrorCode, ServableError } from '@servable/contracts';
import { GrpcExceptionFilter, grpcMethodOf } from '@servable/observability';
import { PredictionService } from '../inference/prediction.service';
import { grpcInferenceCall } from '../metrics/refused-requests';

/**
 * The gateway's gRPC filter: GrpcExceptionFilter's mapping and logging, and an inference call
 * refused before it reached predict (a wrong tensor, no key) is counted as over REST.
 */
@Catch()
@Injectable()
export class CountingGrpcExceptionFilter extends GrpcExceptionFilter {
  constructor(private readonly predictions: PredictionService) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const call = grpcInferenceCall(grpcMethodOf(host) ?? '', host.getArgByIndex(0));
    if (call) {
      const code = exception instanceof ServableError ? exception.code : ErrorCode.INTERNAL;
      const metadata = host.getArgByIndex(1) as Metadata | undefined;
      this.predictions.countRefused(call, exception, code, metadata?.getMap() as Record<string, string> | undefined);
    }
    return super.catch(exception, host);
  }
}
