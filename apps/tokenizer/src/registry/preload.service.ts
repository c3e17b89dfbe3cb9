import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HealthRegistry } from '@servable/contracts/grpc';
import { TOKENIZER_CONFIG, type TokenizerConfig } from '../config/tokenizer.config';
import { TokenizerMetrics } from '../metrics/tokenizer.metrics';
import { TokenizerRegistry } from './tokenizer-registry.service';

export const TOKENIZER_SERVICE = 'servable.tokenizer.v1.TokenizerService';

/**
 * Loads the configured tokenizers before the service reports SERVING, so the
 * first Encode never pays for parsing a vocabulary. The gateway's control
 * plane loads any others it needs through LoadTokenizer.
 */
@Injectable()
export class PreloadService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PreloadService.name);
  private done = false;
  readonly failures: Record<string, string> = {};

  constructor(
    @Inject(TOKENIZER_CONFIG) private readonly config: TokenizerConfig,
    private readonly registry: TokenizerRegistry,
    private readonly health: HealthRegistry,
    private readonly metrics: TokenizerMetrics,
  ) {}

  get ready(): boolean {
    return this.done;
  }

  async onApplicationBootstrap(): Promise<void> {
    const setting = this.config.TOKENIZER_PRELOAD.trim();
    const hashes =
      setting === 'none' ? [] : setting === 'all' ? await this.registry.available() : setting.split(',').map((h) => h.trim()).filter(Boolean);
    for (const hash of hashes) {
      try {
        await this.registry.load(hash);
      } catch (err) {
        // One bad file must not keep the others from serving; it shows on /readyz.
        this.failures[hash] = (err as Error).message;
        this.logger.error(`could not load tokenizer ${hash}: ${(err as Error).message}`);
      }
    }
    this.metrics.loadedTokenizers.set(this.registry.list().length);
    this.done = true;
    this.health.set('SERVING');
    this.logger.log(`${this.registry.list().length} tokenizer(s) loaded from ${this.config.MODEL_REPOSITORY}`);
  }
}
