import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Metadata } from '@grpc/grpc-js';
import { ApiKeyService, actorOf, extractApiKey, type ApiKeyView } from '@servable/persistence';
import { GrpcHealthController } from '@servable/observability';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';
import { ACCESS, type Access } from './access.decorator';

/** Who made a request, as the admin API records it in the audit log. */
export interface Caller {
  /** null when auth is off (dev mode). */
  key: ApiKeyView | null;
  actor: string;
}

export type AuthenticatedRequest = { caller?: Caller; headers: Record<string, string | string[] | undefined> };

/** The caller when SERVABLE_AUTH=off: everything is allowed and audited as "anonymous". */
export const ANONYMOUS: Caller = { key: null, actor: 'anonymous' };

/**
 * One guard for REST and gRPC. Every handler needs a client key unless marked
 * otherwise (`@Access('operator')`, `@Access('public')`), so a new endpoint is closed
 * by default. Keys come from `Authorization: Bearer` or `x-api-key` (HTTP headers or
 * gRPC metadata). UNAUTHENTICATED and PERMISSION_DENIED are ServableErrors, so both
 * transports' filters answer 401/403 and their gRPC codes.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getClass() === GrpcHealthController) return true;
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [context.getHandler(), context.getClass()]) ?? 'client';
    if (context.getType() === 'rpc') {
      if (access === 'public' || this.config.SERVABLE_AUTH === 'off') return true;
      const metadata = context.switchToRpc().getContext<Metadata>();
      await this.apiKeys.authorize(extractApiKey(metadata.getMap() as Record<string, string>), access);
      return true;
    }
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (this.config.SERVABLE_AUTH === 'off') {
      req.caller = ANONYMOUS;
      return true;
    }
    if (access === 'public') return true;
    const key = await this.apiKeys.authorize(extractApiKey(req.headers), access);
    req.caller = { key, actor: actorOf(key) };
    return true;
  }
}
