import { Module } from '@nestjs/common';
import { DownstreamModule } from '../downstream/downstream.module';
import { ModelsModule } from '../models/models.module';
import { PredictionService } from './prediction.service';
import { TokenizeService } from './tokenize.service';

@Module({ imports: [DownstreamModule, ModelsModule], providers: [PredictionService, TokenizeService], exports: [PredictionService, TokenizeService] })
export class InferenceModule {}
