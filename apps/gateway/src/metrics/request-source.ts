import type { HeaderBag } from '@servable/routing';
import { SOURCE_HEADER } from '../request-metadata/request-metadata';

/**
 * The values the `source` metric label may take. A label's values must be few:
 * anything else a caller sends counts as `api`, so a header cannot grow the
 * series without bound.
 */
export const REQUEST_SOURCES = ['api', 'console'] as const;
export type RequestSource = (typeof REQUEST_SOURCES)[number];

export function requestSource(headers: HeaderBag | undefined): RequestSource {
  const raw = headers?.[SOURCE_HEADER];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  return (REQUEST_SOURCES as readonly string[]).includes(value ?? '') ? (value as RequestSource) : 'api';
}
