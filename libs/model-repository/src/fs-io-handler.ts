import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';

type ModelArtifacts = tf.io.ModelArtifacts;

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * TF.js reads `file://` only through tfjs-node, which cannot install
 * everywhere; this IOHandler reads and writes the standard layout
 * (model.json + weight shards) with plain fs, on every backend.
 */
export class FileSystemIOHandler implements tf.io.IOHandler {
  constructor(private readonly dir: string) {}

  async save(artifacts: ModelArtifacts): Promise<tf.io.SaveResult> {
    mkdirSync(this.dir, { recursive: true });
    const weights = artifacts.weightData ? Buffer.from(artifacts.weightData as ArrayBuffer) : Buffer.alloc(0);
    const modelJson = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      ...(artifacts.signature ? { signature: artifacts.signature } : {}),
      ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    writeFileSync(join(this.dir, WEIGHTS_BIN), weights);
    writeFileSync(join(this.dir, MODEL_JSON), JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        weightDataBytes: weights.byteLength,
      },
    };
  }

  async load(): Promise<ModelArtifacts> {
    const modelJson = JSON.parse(await readFile(join(this.dir, MODEL_JSON), 'utf8'));
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of modelJson.weightsManifest ?? []) {
      specs.push(...group.weights);
      for (const path of group.paths) buffers.push(await readFile(join(this.dir, path)));
    }
    const weights = Buffer.concat(buffers);
    return {
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
      signature: modelJson.signature,
      userDefinedMetadata: modelJson.userDefinedMetadata,
      weightSpecs: specs,
      // A fresh ArrayBuffer: Buffers may share a pooled one with unrelated data.
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    };
  }
}

export function fileSystemIO(dir: string): FileSystemIOHandler {
  return new FileSystemIOHandler(dir);
}
