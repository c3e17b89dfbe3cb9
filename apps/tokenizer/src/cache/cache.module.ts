import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { EncodeCache } from './encode-cache.service';

@Module({ imports: [MetricsModule], providers: [EncodeCache], exports: [EncodeCache] })
export class CacheModule {}
