import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RegistryModule } from '../registry/registry.module';
import { EncodeService } from './encode.service';
import { TokenizeService } from './tokenize.service';

@Module({ imports: [RegistryModule, CacheModule, MetricsModule], providers: [EncodeService, TokenizeService], exports: [EncodeService, TokenizeService] })
export class EncodingModule {}
