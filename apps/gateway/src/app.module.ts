import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { HealthRegistry } from '@servable/contracts/grpc';
import { loggerModule } from '@servable/observability';
import type { ControlPlane } from '@servable/persistence';
import type { Logger } from 'pino';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway.config';
import { CanaryModule } from './canary/canary.module';
import { ControlPlaneModule } from './control-plane/control-plane.module';
import { GrpcApiModule } from './grpc/grpc-api.module';
import { HttpApiModule } from './http/http.module';
import { ValidationPipe } from './http/validation.pipe';
import { MetricsModule } from './metrics/metrics.module';

/** What grpc.health.v1 answers for by name: every API service the port serves, so a probe keyed by any of them works. */
export const GATEWAY_GRPC_SERVICES = [
  'servable.gateway.v1.GatewayService',
  'inference.GRPCInferenceService',
  'tensorflow.serving.PredictionService',
  'tensorflow.serving.ModelService',
];

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: HealthRegistry, useValue: new HealthRegistry(GATEWAY_GRPC_SERVICES) },
      ],
      exports: [GATEWAY_CONFIG, HealthRegistry],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, controlPlane: ControlPlane, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule('gateway', logger),
        MetricsModule,
        ControlPlaneModule.forRoot(controlPlane),
        CanaryModule,
        HttpApiModule,
        GrpcApiModule,
      ],
      // Every body typed with a contracts DTO is parsed before its handler runs; gRPC's are typed by protobuf already.
      providers: [{ provide: APP_PIPE, useClass: ValidationPipe }],
    };
  }
}
