import type { ApiClient } from '../../../api/client';

/** Sent with every playground call, so the gateway's metrics can tell console traffic from applications'. */
export const SOURCE_HEADERS = { 'x-servable-source': 'console' } as const;

export interface Classification {
  label: string;
  scores: Record<string, number>;
  /** The text was over the version's max_length ids; the tokenize call shows where it was cut. */
  truncated: boolean;
}

export interface ClassifyBody {
  predictions: Classification[];
  model_version: string;
  tokenizer: string;
}

export interface PlaygroundToken {
  id: number;
  token: string;
  /** UTF-16 offsets into the text: text.slice(start, end) is the token's source. */
  start: number;
  end: number;
  special: boolean;
  unknown: boolean;
}

export interface TokenizedText {
  tokens: PlaygroundToken[];
  truncated: boolean;
}

export interface TokenizeBody {
  results: TokenizedText[];
  model_version: string;
  tokenizer: string;
  max_length: number;
}

/** One version's answer for every text of the playground. */
export interface VersionRun {
  version: number;
  tokenizer: string;
  maxLength: number;
  predictions: Classification[];
  tokenized: TokenizedText[];
  /** The gateway's own time for the classify request (x-total-time). */
  gatewayMs: number | null;
  /** The classify request as the browser saw it. */
  roundTripMs: number;
}

/**
 * Classifies and tokenizes the texts with one version, named in the path so the
 * rollout's split cannot pick another. Both calls run at once; the latency shown is
 * the classify call's, since that is what an application would wait for.
 */
export async function runVersion(api: ApiClient, model: string, version: number, texts: string[]): Promise<VersionRun> {
  const path = `/v1/models/${encodeURIComponent(model)}/versions/${version}`;
  const [classified, tokenized] = await Promise.all([
    api.inference<ClassifyBody>(`${path}:classify`, { texts }, SOURCE_HEADERS),
    api.inference<TokenizeBody>(`${path}:tokenize`, { texts }, SOURCE_HEADERS),
  ]);
  const total = Number(classified.headers.get('x-total-time'));
  return {
    version,
    tokenizer: classified.body.tokenizer,
    maxLength: tokenized.body.max_length,
    predictions: classified.body.predictions,
    tokenized: tokenized.body.results,
    gatewayMs: classified.headers.has('x-total-time') && Number.isFinite(total) ? total : null,
    roundTripMs: classified.roundTripMs,
  };
}
