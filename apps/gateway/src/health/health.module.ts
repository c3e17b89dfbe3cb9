import { Module } from '@nestjs/common';
import { DownstreamModule } from '../downstream/downstream.module';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';

@Module({ imports: [DownstreamModule], controllers: [HealthController], providers: [ReadinessService], exports: [ReadinessService] })
export class HealthModule {}
