import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HealthRegistry } from '@servable/contracts/grpc';
import { loggerModule } from '@servable/observability';
import { TOKENIZER_CONFIG, type TokenizerConfig } from './config/tokenizer.config';
import { EncodingModule } from './encoding/encoding.module';
import { GrpcHealthController } from '@servable/observability';
import { TokenizerController } from './grpc/tokenizer.controller';
import { MetricsModule } from './metrics/metrics.module';
import { PreloadService, TOKENIZER_SERVICE } from './registry/preload.service';
import { RegistryModule } from './registry/registry.module';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: TokenizerConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: TOKENIZER_CONFIG, useValue: config },
        { provide: HealthRegistry, useValue: new HealthRegistry([TOKENIZER_SERVICE]) },
      ],
      exports: [TOKENIZER_CONFIG, HealthRegistry],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: TokenizerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), loggerModule('tokenizer'), MetricsModule, RegistryModule, EncodingModule],
      controllers: [TokenizerController, GrpcHealthController],
      providers: [PreloadService],
    };
  }
}
