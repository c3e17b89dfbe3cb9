import { z } from 'zod';
import { PATH, shownValue } from '../validation';

// Building blocks of the REST bodies. Their messages are the ones the hand-written
// parsers sent before, so clients that match on them keep working ({path} is where).

const got = (iss: { input?: unknown }) => shownValue(iss.input);

const NOT_AN_OBJECT = 'the body must be a JSON object';

/** A JSON object body; anything else is refused as a whole before its fields are looked at. */
export function jsonObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, message = NOT_AN_OBJECT) {
  return z.object(shape, { error: (iss) => (iss.code === 'invalid_type' ? message : undefined) });
}

/** The same, keeping the fields the shape does not name, for a refinement that judges them (classify's two shapes). */
export function looseJsonObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, message = NOT_AN_OBJECT) {
  return z.looseObject(shape, { error: (iss) => (iss.code === 'invalid_type' ? message : undefined) });
}

/** The fields of a body, as an error message lists them: "texts" and "truncate". */
const listed = (keys: readonly string[]) => keys.map((k) => `"${k}"`).join(', ').replace(/, ([^,]*)$/, ' and $1');

/** A field of a body that has none such: a misspelt option must not be skipped without a word. */
export const unknownFields = (keys: readonly string[], known: readonly string[]) =>
  `unknown field${keys.length > 1 ? 's' : ''} ${listed(keys)}: this body takes ${listed(known)}`;

/**
 * A JSON object body of our own API, where a field it does not know is refused (unknownFields):
 * `{"texts": [...], "truncte": false}` would otherwise be served as if the option were not there.
 * The TF Serving and OIP bodies stay lenient, as their servers are.
 */
export function strictJsonObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, message = NOT_AN_OBJECT) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'invalid_type' ? message : iss.code === 'unrecognized_keys' ? unknownFields(iss.keys, known) : undefined),
  });
}

/** One text to classify or tokenize. Empty texts and how many a request may carry are the gateway's config to judge. */
export const text = z.string({ error: (iss) => `${PATH} must be a string, got ${got(iss)} (wrong dtype)` });

export const texts = z.array(text, { error: (iss) => (iss.input === undefined ? `missing "${PATH}"` : `${PATH} must be a list of strings`) });

/** A token id as the model's int32 input takes it: a float or a string is the wrong dtype. */
export const int32Id = z.int32({ error: (iss) => `${PATH} must be an int32 id, got ${got(iss)} (wrong dtype)` });

/** One row of token ids, already tokenized by the caller. */
export const idRow = z.array(int32Id, { error: `${PATH} must be a list of int32 ids` });

export const idRows = z.array(idRow, { error: `${PATH} must be a list of rows of int32 ids` });

/** TF Serving's name of the default signature: the only one a Servable version has. */
export const DEFAULT_SIGNATURE = 'serving_default';

/** The message TF Serving gives for a signature a model does not have (REST and gRPC alike). */
export const unknownSignature = (name: string) => `Serving signature name: "${name}" not found in signature def; this model has "${DEFAULT_SIGNATURE}" only`;

/** TF Serving's "signature_name": empty or serving_default; any other is refused, as TF Serving refuses it. */
export const signatureName = z
  .string({ error: `"signature_name" must be a string` })
  .refine((name) => name === '' || name === DEFAULT_SIGNATURE, { error: (iss) => unknownSignature(String(iss.input)) })
  .describe(`TF Serving's signature name: "${DEFAULT_SIGNATURE}" (or empty), the only signature a version has`);

/** The tokenizer hash ids were made with; the x-servable-tokenizer header says the same. */
export const tokenizerHash = z.string().describe('The tokenizer hash the ids were made with (x-servable-tokenizer says the same)');

/** True when every element of a JSON value is an object (not a list): rows of named inputs. */
export function allObjects(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
}
