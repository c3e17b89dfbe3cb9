import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HealthRegistry } from '@servable/contracts/grpc';
import { loggerModule } from '@servable/observability';
import { INFERENCE_CONFIG, type InferenceConfig } from './config/inference.config';
import { GrpcHealthController } from '@servable/observability';
import { InferenceController } from './grpc/inference.controller';
import type { ModelSource } from './models/manifest';
import { MODEL_SOURCE } from './models/model-source';
import { ModelsModule } from './models/models.module';
import { WorkerPool } from './workers/worker-pool';

export const INFERENCE_SERVICE = 'servable.inference.v1.InferenceService';

/** Things made before Nest starts: the worker pool must be up to log its backend, and tests swap the source. */
export interface InferenceRuntime {
  config: InferenceConfig;
  pool: WorkerPool;
  source: ModelSource;
}

@Global()
@Module({})
class RuntimeModule {
  static forRoot(runtime: InferenceRuntime): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: INFERENCE_CONFIG, useValue: runtime.config },
        { provide: WorkerPool, useValue: runtime.pool },
        { provide: MODEL_SOURCE, useValue: runtime.source },
        { provide: HealthRegistry, useValue: new HealthRegistry([INFERENCE_SERVICE]) },
      ],
      exports: [INFERENCE_CONFIG, WorkerPool, MODEL_SOURCE, HealthRegistry],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(runtime: InferenceRuntime): DynamicModule {
    return {
      module: AppModule,
      imports: [RuntimeModule.forRoot(runtime), loggerModule('inference'), ModelsModule],
      controllers: [InferenceController, GrpcHealthController],
    };
  }
}
