import { ErrorCode, ServableError } from '@servable/contracts';
import { servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { ModelManifest } from '@servable/model-repository';
import type { DynamicBatcher } from '../batching/dynamic-batcher';
import type { VersionSignature } from './signature';

export const versionKey = (name: string, version: number) => `${name}:${version}`;

/** One model version and where it is in TF Serving's lifecycle. */
export class ModelVersion {
  state: v1.ModelState = v1.ModelState.START;
  error?: ServableError;
  manifest?: ModelManifest;
  signature?: VersionSignature;
  batcher?: DynamicBatcher<Float32Array>;
  /** Settles when the current load finishes (either way). */
  loading?: Promise<void>;

  constructor(
    readonly name: string,
    readonly version: number,
  ) {}

  get key(): string {
    return versionKey(this.name, this.version);
  }

  fail(err: unknown): void {
    this.state = v1.ModelState.FAILED;
    this.error = err instanceof ServableError ? err : new ServableError(ErrorCode.INTERNAL, (err as Error)?.message ?? String(err));
  }

  status(backend: string): v1.ModelVersionStatus {
    return {
      name: this.name,
      version: String(this.version),
      state: this.state,
      status: { errorCode: this.error?.code ?? 'OK', errorMessage: this.error?.message ?? '' },
      backend,
      tokenizerHash: this.manifest?.tokenizer.hash ?? '',
    };
  }
}
