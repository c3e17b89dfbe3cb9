import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { InferenceModule } from '../inference/inference.module';
import { ModelsModule } from '../models/models.module';
import { OipController } from './oip.controller';
import { ProductController } from './product.controller';
import { TfServingController } from './tfserving.controller';
import { TokenizeController } from './tokenize.controller';

@Module({ imports: [InferenceModule, ModelsModule, HealthModule], controllers: [ProductController, TfServingController, OipController, TokenizeController] })
export class HttpApiModule {}
