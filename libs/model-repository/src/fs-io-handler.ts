import { mkdirSync, writeFileSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
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
    const paths: string[] = [];
    for (const group of modelJson.weightsManifest ?? []) {
      specs.push(...group.weights);
      for (const path of group.paths) paths.push(join(this.dir, path));
    }
    return {
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
      signature: modelJson.signature,
      userDefinedMetadata: modelJson.userDefinedMetadata,
      weightSpecs: specs,
      weightData: await readShards(paths),
    };
  }
}

/**
 * The weight shards, in order, read straight into one ArrayBuffer of their own. Reading each
 * file and then concatenating and slicing (a fresh ArrayBuffer, since a Buffer may share a
 * pooled one) held the weights three times over: a 131 MB model peaked 262 MB higher while it
 * loaded, in inference and in the upload's check alike.
 */
async function readShards(paths: string[]): Promise<ArrayBuffer> {
  const sizes = await Promise.all(paths.map(async (path) => (await stat(path)).size));
  const weights = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (const [i, path] of paths.entries()) {
    const file = await open(path, 'r');
    try {
      let read = 0;
      while (read < sizes[i]) {
        const { bytesRead } = await file.read(weights, offset + read, sizes[i] - read, read);
        if (bytesRead === 0) throw new Error(`weights file ${path} ended after ${read} of ${sizes[i]} bytes`);
        read += bytesRead;
      }
    } finally {
      await file.close();
    }
    offset += sizes[i];
  }
  return weights.buffer;
}

export function fileSystemIO(dir: string): FileSystemIOHandler {
  return new FileSystemIOHandler(dir);
}
