import { Injectable } from '@nestjs/common';
import { DownstreamService, type DownstreamState } from '../downstream/downstream.service';

export interface GatewayReadiness {
  ready: boolean;
  checks: Record<'tokenizer' | 'inference', DownstreamState>;
}

/** Ready means both data-plane hops answer their health check as SERVING. */
@Injectable()
export class ReadinessService {
  constructor(private readonly downstream: DownstreamService) {}

  async check(): Promise<GatewayReadiness> {
    const checks = await this.downstream.readiness();
    return { ready: checks.tokenizer === 'up' && checks.inference === 'up', checks };
  }
}
