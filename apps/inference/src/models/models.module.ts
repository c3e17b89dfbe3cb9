import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { ModelManager } from './model-manager.service';
import { PredictService } from './predict.service';

@Module({ imports: [MetricsModule], providers: [ModelManager, PredictService], exports: [ModelManager, PredictService] })
export class ModelsModule {}
