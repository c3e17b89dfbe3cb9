import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RegistryModule } from '../registry/registry.module';
import { EncodeService } from './encode.service';

@Module({ imports: [RegistryModule, CacheModule, MetricsModule], providers: [EncodeService], exports: [EncodeService] })
export class EncodingModule {}
