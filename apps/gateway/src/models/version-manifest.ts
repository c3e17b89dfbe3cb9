/** One tensor of a signature, as servable.json declares it. */
export interface TensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

/** The parts of servable.json the gateway reads: signature, class labels and the tokenizer pin. */
export interface VersionManifest {
  name: string;
  version: number;
  framework?: string;
  signature: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  labels: string[];
  tokenizer: { hash: string; vocab_size: number; pad_id?: number };
  max_length: number;
}

/** The model repository as the gateway sees it (implemented by @servable/model-repository). */
export interface ManifestSource {
  listModels(): Promise<string[]>;
  listVersions(model: string): Promise<number[]>;
  readManifest(model: string, version: number): Promise<VersionManifest>;
}

export const MANIFEST_SOURCE = Symbol('MANIFEST_SOURCE');
