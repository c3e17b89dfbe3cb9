import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type Key = PropertyKey;

/** Stands for the field's path in our messages: "{path} must be a string" reads "texts[1] must be a string". */
export const PATH = '{path}';

/** The largest int32: PostgreSQL's `integer`, the type of every id and version the control plane stores. */
export const INT32_MAX = 2_147_483_647;

/** How much of a wrong value an error message quotes: enough to recognise it, never the whole body back. */
const SHOWN_CHARS = 100;

/**
 * A wrong value as an error message quotes it: JSON, cut at SHOWN_CHARS. A value JSON cannot
 * write (nested deeper than the stack, a BigInt) is named by its kind instead of failing the request.
 */
export function shownValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return Array.isArray(value) ? 'a nested list' : typeof value;
  }
  if (text === undefined) return String(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters)` : text;
}

/** A path as a reader writes it: texts[1], labels.stable, instances[0].input_ids. */
export function issuePath(path: readonly Key[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/**
 * A union that failed: the branch whose first problem lies deepest in the value is the
 * one the caller meant ([[1.5]] meant rows of ids, not texts). When no branch got further
 * than another, nobody can tell, and the union's own message says what is allowed.
 */
function meantBranch(branches: readonly Issue[][]): Issue[] | undefined {
  const depth = (issues: readonly Issue[]) => (issues.length ? issues[0].path.length : -1);
  const deepest = Math.max(...branches.map(depth));
  const at = branches.filter((b) => depth(b) === deepest);
  return deepest > 0 && at.length === 1 ? at[0] : undefined;
}

function describe(issue: Issue, base: readonly Key[]): string {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union') {
    const branch = meantBranch(issue.errors);
    if (branch) return describe(branch[0], path);
  }
  const where = issuePath(path);
  if (issue.message.includes(PATH)) return issue.message.replaceAll(PATH, where);
  // zod's own messages are capitalised sentences ("Too big: ..."); ours say the whole thing.
  return /^[A-Z]/.test(issue.message) && where ? `${where}: ${issue.message}` : issue.message;
}

/**
 * A failed parse as the `error` of a 400: every problem (up to `limit`), each naming
 * where it is. The schemas' own messages keep the wording clients saw before zod.
 */
export function describeIssues(issues: readonly Issue[], limit = 5): string {
  const lines = issues.slice(0, limit).map((issue) => describe(issue, []));
  if (issues.length > limit) lines.push(`and ${issues.length - limit} more`);
  return lines.join('; ');
}
