import { Module } from '@nestjs/common';
import { DownstreamModule } from '../downstream/downstream.module';
import { ModelsModule } from '../models/models.module';
import { PredictionService } from './prediction.service';

@Module({ imports: [DownstreamModule, ModelsModule], providers: [PredictionService], exports: [PredictionService] })
export class InferenceModule {}
