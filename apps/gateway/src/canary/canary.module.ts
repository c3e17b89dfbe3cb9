import { Module } from '@nestjs/common';
import { CanaryDriver } from './canary-driver.service';
import { CanaryController } from './canary.controller';
import { CanaryMetrics } from './canary.metrics';

/** Automated canary analysis: the admin routes, the driver that judges steps, and its gauges. */
@Module({ controllers: [CanaryController], providers: [CanaryDriver, CanaryMetrics], exports: [CanaryDriver] })
export class CanaryModule {}
