import { Inject, Injectable, Logger } from '@nestjs/common';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, ServableError, sha256Hex } from '@servable/contracts';
import { TOKENIZER_CONFIG, type TokenizerConfig } from '../config/tokenizer.config';
import { TokenizerHandle } from './tokenizer-handle';

const HASH = /^[0-9a-f]{64}$/;

/** Loaded tokenizers by content hash. A hash names exactly one byte string, so loading is idempotent. */
@Injectable()
export class TokenizerRegistry {
  private readonly logger = new Logger(TokenizerRegistry.name);
  private readonly loaded = new Map<string, TokenizerHandle>();
  private readonly loading = new Map<string, Promise<TokenizerHandle>>();

  constructor(@Inject(TOKENIZER_CONFIG) private readonly config: TokenizerConfig) {}

  get(hash: string): TokenizerHandle {
    const handle = this.loaded.get(hash);
    if (!handle) {
      if (!HASH.test(hash)) throw ServableError.invalid(`tokenizer_hash must be 64 lower-case hex characters, got "${hash.slice(0, 80)}"`);
      throw ServableError.notFound(`tokenizer ${hash} is not loaded`);
    }
    return handle;
  }

  list(): TokenizerHandle[] {
    return [...this.loaded.values()];
  }

  /** Loads tokenizers/<hash>.json from the repository; refuses bytes that do not hash to the name. */
  async load(hash: string): Promise<{ handle: TokenizerHandle; newlyLoaded: boolean }> {
    if (!HASH.test(hash)) throw ServableError.invalid(`tokenizer_hash must be 64 lower-case hex characters, got "${hash.slice(0, 80)}"`);
    const existing = this.loaded.get(hash);
    if (existing) return { handle: existing, newlyLoaded: false };
    let pending = this.loading.get(hash);
    if (!pending) {
      pending = this.readAndParse(hash).finally(() => this.loading.delete(hash));
      this.loading.set(hash, pending);
    }
    const handle = await pending;
    const newlyLoaded = !this.loaded.has(hash);
    this.loaded.set(hash, handle);
    if (newlyLoaded) this.logger.log({ hash, vocabSize: handle.vocabSize, modelType: handle.modelType }, `loaded tokenizer ${hash.slice(0, 12)}`);
    return { handle, newlyLoaded };
  }

  /** Hashes present in the repository, whether loaded or not. */
  async available(): Promise<string[]> {
    const dir = join(this.config.MODEL_REPOSITORY, 'tokenizers');
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((h) => HASH.test(h)).sort();
  }

  private async readAndParse(hash: string): Promise<TokenizerHandle> {
    const path = join(this.config.MODEL_REPOSITORY, 'tokenizers', `${hash}.json`);
    const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw ServableError.notFound(`tokenizer ${hash} is not in the repository (${path})`);
      throw err;
    });
    const actual = sha256Hex(bytes);
    if (actual !== hash) {
      throw new ServableError(
        ErrorCode.FAILED_PRECONDITION,
        `tokenizer file ${path} hashes to ${actual}, not to its name ${hash}; refusing to load it`,
      );
    }
    try {
      return await new TokenizerHandle(hash, bytes.toString('utf8')).init();
    } catch (err) {
      throw new ServableError(ErrorCode.FAILED_PRECONDITION, `tokenizer ${hash} is not a valid tokenizer.json: ${(err as Error).message}`);
    }
  }
}
