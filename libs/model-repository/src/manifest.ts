import { z } from 'zod';
import { INT32_MAX, ServableError } from '@servable/contracts';

const dim = z.number().int().min(-1);
const tensorSpec = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a tensor name is an identifier'),
  dtype: z.enum(['int32', 'float32']),
  shape: z.array(dim).min(1),
});

/**
 * Dynamic batching knobs. No defaults here: a field servable.json leaves out stays
 * undefined, so inference can fill it from its environment (MAX_BATCH_SIZE, ...).
 * Strict, so a misspelt knob is an error rather than silently replaced by the env's value.
 */
const batching = z
  .object({
    // Rows per batch: more amortises per-call overhead, but every row waits for the slowest.
    max_batch_size: z.number().int().positive(),
    // How long a partial batch may wait for company: throughput against idle latency.
    batch_timeout_micros: z.number().int().min(0),
    // Rows waiting before RESOURCE_EXHAUSTED: bounds memory and the worst queueing delay.
    max_queue_size: z.number().int().positive(),
    // Padded ids per batch (rows x longest row), as TEI: bounds compute and memory per batch.
    max_batch_tokens: z.number().int().positive(),
    // Batch sizes a graph backend was compiled for; rows are padded up to the next one.
    allowed_batch_sizes: z.array(z.number().int().positive()),
  })
  .partial()
  .strict();

// The control plane stores version, vocab_size and max_length in PostgreSQL `integer`
// columns: a larger number would fail the insert as a 500 instead of a 400 naming the field.
const positiveInt32 = () => z.number().int().positive().max(INT32_MAX);

/**
 * The longest max_length a version may have: the tokenizer service's default MAX_SEQUENCE_LENGTH,
 * the longest sequence it encodes. Inference warms a version up at its max_length, so a manifest
 * saying 2^31 - 1 took inference to 8.7 GB before the load failed.
 */
export const MAX_SEQUENCE_LENGTH = 8192;

export const manifestSchema = z.object({
  format: z.literal('servable.model/v1'),
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'model names are lower-case [a-z0-9_-]'),
  version: positiveInt32(),
  framework: z.enum(['tfjs-layers', 'tfjs-graph', 'tf-saved-model']),
  signature: z.object({ inputs: z.array(tensorSpec).min(1), outputs: z.array(tensorSpec).min(1) }),
  labels: z.array(z.string().min(1)).min(2),
  tokenizer: z.object({
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of tokenizer.json, 64 lower-case hex'),
    vocab_size: positiveInt32(),
    pad_id: z.number().int().min(0),
  }),
  max_length: positiveInt32(),
  batching: batching.optional(),
  evaluation: z.record(z.string(), z.unknown()).optional(),
  lineage: z.record(z.string(), z.unknown()).optional(),
});

/** servable.json: what a version is, how to call it and how it was made. */
export type ModelManifest = z.infer<typeof manifestSchema>;
export type TensorSpec = z.infer<typeof tensorSpec>;
/** servable.json's `batching` block as written: every field may be absent. */
export type ManifestBatching = z.infer<typeof batching>;

/**
 * Validates servable.json, naming each field that is wrong. Beyond the schema it holds what a
 * version must satisfy to be registered (classes match labels, labels are distinct); a
 * manifest already stored can be read back with manifestSchema alone.
 */
export function parseManifest(json: unknown, source = 'servable.json'): ModelManifest {
  const result = manifestSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw ServableError.invalid(`${source} is not valid: ${problems}`);
  }
  const m = result.data;
  if (m.signature.outputs[0].shape.at(-1) !== -1 && m.signature.outputs[0].shape.at(-1) !== m.labels.length) {
    throw ServableError.invalid(`${source} is not valid: output ${m.signature.outputs[0].name} has ${m.signature.outputs[0].shape.at(-1)} classes but ${m.labels.length} labels`);
  }
  // Answers map each column to its label by name: a repeated label would hide one column.
  const repeated = m.labels.filter((label, i) => m.labels.indexOf(label) !== i);
  if (repeated.length > 0) {
    throw ServableError.invalid(`${source} is not valid: labels must be distinct, but ${[...new Set(repeated)].map((l) => `"${l}"`).join(', ')} appears more than once`);
  }
  // Checked here, not in the schema: a manifest stored before the bound still reads back.
  if (m.max_length > MAX_SEQUENCE_LENGTH) {
    throw ServableError.invalid(`${source} is not valid: max_length ${m.max_length} is over ${MAX_SEQUENCE_LENGTH}, the longest sequence the tokenizer encodes`);
  }
  // Inference pads every batch to a fixed sequence length, so a text may not be cut longer than it.
  const fixed = fixedSequenceLength(m);
  if (fixed !== undefined && m.max_length > fixed) {
    throw ServableError.invalid(`${source} is not valid: max_length ${m.max_length} is over the sequence length ${fixed} that input ${m.signature.inputs[0].name} fixes`);
  }
  return m;
}

/** The sequence length the signature fixes ([-1, 64]): inference pads every batch to it. Undefined when free ([-1, -1]). */
export function fixedSequenceLength(manifest: Pick<ModelManifest, 'signature'>): number | undefined {
  const seq = manifest.signature.inputs[0]?.shape[1];
  return seq !== undefined && seq > 0 ? seq : undefined;
}
