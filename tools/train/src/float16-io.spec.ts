import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { fileSystemIO, type ModelManifest } from '@servable/model-repository';
import { initWasmBackend, loadTfModel } from '@servable/model-repository/tfjs';
import { float16IO, toFloat16Bits } from './float16-io';
import { ARCHITECTURES, applyTemperature, buildModel } from './models';

const small = { ...ARCHITECTURES[1], bigramBuckets: 512, bigramDim: 4 };
const ids = () => tf.tensor2d([[2, 10, 11, 12, 3, 0], [2, 40, 41, 3, 0, 0]], [2, 6], 'int32');

describe('float16 weights and the in-graph ensemble', () => {
  const dir = mkdtempSync(join(tmpdir(), 'f16-'));
  beforeAll(async () => {
    await initWasmBackend();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rounds to binary16 like the IEEE format (ties to even, overflow to infinity, subnormals)', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to the even mantissa
    expect(toFloat16Bits(0)).toBe(0);
  });

  it('stores a layers model at half the bytes, and the unchanged loader serves it within float16 rounding', async () => {
    const model = buildModel({ ...small, members: 3 }, 100, 7);
    const before = (model.predict(ids()) as tf.Tensor).arraySync() as number[][];
    await model.save(float16IO(fileSystemIO(join(dir, 'f16'))));
    await model.save(fileSystemIO(join(dir, 'f32')));
    expect(statSync(join(dir, 'f16', 'weights.bin')).size * 2).toBe(statSync(join(dir, 'f32', 'weights.bin')).size);
    const json = JSON.parse(readFileSync(join(dir, 'f16', 'model.json'), 'utf8'));
    expect(json.weightsManifest[0].weights.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'float16')).toBe(true);
    const loaded = (await loadTfModel(join(dir, 'f16'), { framework: 'tfjs-layers' } as ModelManifest)) as tf.LayersModel;
    const after = (loaded.predict(ids()) as tf.Tensor).arraySync() as number[][];
    after.forEach((row, i) => row.forEach((p, j) => expect(p).toBeCloseTo(before[i][j], 3)));
  });

  it('temperature-scales an ensemble by dividing every member logit layer, which divides the mean logit', () => {
    const model = buildModel({ ...small, members: 3 }, 100, 7);
    const logit = (m: tf.LayersModel) => (m.predict(ids()) as tf.Tensor).arraySync() as number[][];
    const before = logit(model).map(([h, s]) => Math.log(s / h));
    applyTemperature(model, 2);
    const after = logit(model).map(([h, s]) => Math.log(s / h));
    after.forEach((l, i) => expect(l).toBeCloseTo(before[i] / 2, 4));
  });
});
