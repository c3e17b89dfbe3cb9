import { Module } from '@nestjs/common';
import { TokenizerMetrics } from './tokenizer.metrics';

@Module({ providers: [TokenizerMetrics], exports: [TokenizerMetrics] })
export class MetricsModule {}
