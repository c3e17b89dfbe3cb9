import * as tf from '@tensorflow/tfjs';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a float32, rounded to nearest, ties to even (what TF.js's float16 decoder reads back). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/**
 * Wraps an IOHandler so every float32 weight is stored as float16, marked in the
 * manifest as `quantization: {dtype: 'float16'}`: the standard TF.js layout, which
 * tf.loadLayersModel (and so the inference service) decodes back to float32 with no
 * change to the loader. Halves weights.bin; the values served are the rounded ones.
 * Written here because TF.js reads float16 weights but has no writer for them (its
 * quantisation lives in the Python converter), and Node 20 has no Float16Array.
 */
export function float16IO(inner: tf.io.IOHandler): tf.io.IOHandler {
  return {
    save: async (artifacts) => {
      const specs = artifacts.weightSpecs ?? [];
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const parts: Uint8Array[] = [];
      let offset = 0;
      const outSpecs = specs.map((spec) => {
        const size = spec.shape.reduce((a, b) => a * b, 1);
        const bytes = size * 4;
        if (spec.dtype !== 'float32') {
          parts.push(new Uint8Array(data.slice(offset, offset + bytes)));
          offset += bytes;
          return spec;
        }
        const values = new Float32Array(data.slice(offset, offset + bytes));
        offset += bytes;
        const half = new Uint16Array(size);
        for (let i = 0; i < size; i++) half[i] = toFloat16Bits(values[i]);
        parts.push(new Uint8Array(half.buffer));
        return { ...spec, quantization: { dtype: 'float16' as const } };
      });
      const total = parts.reduce((a, p) => a + p.byteLength, 0);
      const out = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.byteLength;
      }
      if (!inner.save) throw new Error('float16IO: the wrapped handler cannot save');
      return inner.save({ ...artifacts, weightSpecs: outSpecs, weightData: out.buffer });
    },
  };
}
