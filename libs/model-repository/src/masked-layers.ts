import * as tf from '@tensorflow/tfjs';

/**
 * Pools token vectors over the positions that are not padding (id != 0), so a
 * row gives the same output however much [PAD] its batch adds. `mean` is the
 * classic bag-of-embeddings; `conv` first runs a 1-D convolution ('same'
 * padding) over the masked embeddings and keeps the max per filter.
 *
 * The convolution is written as shifted slices and one matMul rather than
 * tf.conv1d: the WASM backend has no Conv2DBackpropFilter kernel, so this is
 * what lets the model train (and serve) on WASM. Padded positions are zeroed
 * before the convolution, exactly like the 'same' border, and pushed to -1e9
 * before the max, so padding never changes a prediction.
 */
export class MaskedPooling extends tf.layers.Layer {
  static className = 'MaskedPooling';
  private readonly mode: 'mean' | 'conv';
  private readonly filters: number;
  private readonly kernelSize: number;
  private readonly seed: number;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(config: { mode: 'mean' | 'conv'; filters?: number; kernelSize?: number; seed?: number; name?: string; trainable?: boolean }) {
    super(config);
    this.mode = config.mode;
    this.filters = config.filters ?? 0;
    this.kernelSize = config.kernelSize ?? 3;
    this.seed = config.seed ?? 1;
    if (this.mode === 'conv' && this.kernelSize % 2 === 0) throw new Error('MaskedPooling: kernelSize must be odd');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [embedded] = inputShape as tf.Shape[];
    const dim = embedded[2] as number;
    if (this.mode === 'conv') {
      this.kernel = this.addWeight('kernel', [this.kernelSize * dim, this.filters], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
      this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [embedded] = inputShape as tf.Shape[];
    return [embedded[0], this.mode === 'conv' ? this.filters : embedded[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [embedded, ids] = inputs as tf.Tensor[];
      const mask = tf.cast(tf.notEqual(ids, 0), 'float32').expandDims(-1);
      const x = tf.mul(embedded, mask) as tf.Tensor3D;
      if (this.mode === 'mean') return tf.div(tf.sum(x, 1), tf.maximum(tf.sum(mask, 1), 1));
      const [batch, length, dim] = x.shape;
      const half = (this.kernelSize - 1) / 2;
      const padded = tf.pad(x, [[0, 0], [half, half], [0, 0]]);
      const windows = Array.from({ length: this.kernelSize }, (_, k) => tf.slice(padded, [0, k, 0], [-1, length, -1]));
      const columns = tf.reshape(tf.concat(windows, 2), [batch * length, this.kernelSize * dim]);
      const conv = tf.relu(tf.add(tf.reshape(tf.matMul(columns, this.kernel!.read()), [batch, length, this.filters]), this.bias!.read()));
      return tf.max(tf.add(conv, tf.mul(tf.sub(mask, 1), 1e9)), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, filters: this.filters, kernelSize: this.kernelSize, seed: this.seed };
  }
}

/**
 * Token n-grams as ids of their own, for every order in `orders` (2 = bigrams,
 * 3 = trigrams, ...), all hashed into one table of `buckets` ids. For order n,
 * position i gets h(ids[i], ..., ids[i+n-1]) in [1, buckets), where
 * h = a, then h = (h * 8191 + next) mod (buckets - 1) for each next id, plus 1;
 * and 0 ([PAD]) where any of the n tokens is padding or past the end, so
 * MaskedPooling skips it like any padding. The orders' ids are concatenated
 * along the sequence axis ([batch, seq * orders.length]), so one embedding and
 * one pooling read them all. For bigrams this is exactly HashedBigrams' hash.
 * The hash is integer arithmetic on the ids, so training and serving compute
 * the same buckets.
 */
export class HashedNgrams extends tf.layers.Layer {
  static className = 'HashedNgrams';
  protected readonly buckets: number;
  protected readonly orders: number[];

  constructor(config: { buckets: number; orders?: number[]; name?: string; trainable?: boolean }) {
    super(config);
    this.buckets = config.buckets;
    this.orders = config.orders ?? [2];
    if (this.orders.length === 0 || this.orders.some((n) => !Number.isInteger(n) || n < 2 || n > 8)) throw new Error(`${this.getClassName()}: orders must be whole numbers in [2, 8]`);
    // ids below 2^16 keep a * 8191 + b inside int32; past bigrams h is below
    // buckets, and 2^18 keeps h * 8191 + id inside int32 too.
    const most = Math.max(...this.orders) === 2 ? 1 << 24 : 1 << 18;
    if (!Number.isInteger(this.buckets) || this.buckets < 2 || this.buckets > most) throw new Error(`${this.getClassName()}: buckets must be a whole number in [2, 2^${Math.log2(most)}]`);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, length] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [batch, length === null ? null : length * this.orders.length];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor2D;
      const length = ids.shape[1];
      const modulus = tf.scalar(this.buckets - 1, 'int32');
      const multiplier = tf.scalar(8191, 'int32');
      // shifted(k)[i] = ids[i + k], 0 past the end.
      const shifted = (k: number) => (k >= length ? tf.zerosLike(ids) : tf.pad(tf.slice(ids, [0, k], [-1, -1]), [[0, 0], [0, k]]));
      const parts = this.orders.map((n) => {
        let hash: tf.Tensor = ids;
        let valid: tf.Tensor = tf.notEqual(ids, 0);
        for (let k = 1; k < n; k++) {
          const next = shifted(k);
          hash = tf.mod(tf.add(tf.mul(hash, multiplier), next), modulus);
          valid = tf.logicalAnd(valid, tf.notEqual(next, 0));
        }
        hash = tf.add(hash, tf.scalar(1, 'int32'));
        return tf.where(valid, hash, tf.zerosLike(hash));
      });
      return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), buckets: this.buckets, orders: this.orders };
  }
}

/**
 * Token bigrams as ids of their own: position i gets a hash of (ids[i], ids[i+1])
 * into [1, buckets), and 0 ([PAD]) where either token is padding or there is no
 * next token, so MaskedPooling skips it like any padding. HashedNgrams with
 * orders [2], under the name the models saved before n-grams load by.
 */
export class HashedBigrams extends HashedNgrams {
  static override className = 'HashedBigrams';

  constructor(config: { buckets: number; name?: string; trainable?: boolean }) {
    super({ ...config, orders: [2] });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config = super.getConfig();
    delete config['orders'];
    return config;
  }
}

let registered = false;

/** Registers Servable's custom layers so saved models that use them deserialize. Idempotent. */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(MaskedPooling);
  tf.serialization.registerClass(HashedBigrams);
  tf.serialization.registerClass(HashedNgrams);
  registered = true;
}
