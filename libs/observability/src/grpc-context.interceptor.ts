import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import { REQUEST_ID_HEADER, TRACEPARENT_HEADER, requestContextFrom, runWithRequestContext } from './request-context';

/**
 * Runs each gRPC handler inside the request context taken from the call's
 * metadata, so its logs (and the calls it makes downstream) carry the same
 * x-request-id and traceparent as the gateway hop that started it.
 */
@Injectable()
export class GrpcContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata | undefined>();
    const first = (key: string) => metadata?.get?.(key)?.[0]?.toString();
    const ctx = requestContextFrom(first(REQUEST_ID_HEADER), first(TRACEPARENT_HEADER));
    return new Observable((subscriber) => runWithRequestContext(ctx, () => next.handle().subscribe(subscriber)));
  }
}
