import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { InferenceModule } from '../inference/inference.module';
import { ModelsModule } from '../models/models.module';
import { GatewayGrpcController } from './gateway.controller';
import { GrpcHealthController } from '@servable/observability';
import { OipGrpcController } from './oip.controller';
import { TfServingModelController, TfServingPredictionController } from './tfserving/tfserving.controller';

@Module({ imports: [InferenceModule, ModelsModule, HealthModule], controllers: [GatewayGrpcController, OipGrpcController, TfServingPredictionController, TfServingModelController, GrpcHealthController] })
export class GrpcApiModule {}
