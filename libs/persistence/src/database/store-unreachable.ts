/** Socket errors of a connection that could not be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** PostgreSQL shutting down or not taking connections yet (SQLSTATE 57P01-57P03). */
const SERVER_GOING = new Set(['57P01', '57P02', '57P03']);
/** node-postgres' own words for a connection that ended or never came up. */
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Whether an error says the control plane's database cannot be reached (refused, lost, shutting
 * down), as opposed to a query it answered with an error. Such a failure is UNAVAILABLE for a
 * caller, who may retry, not an INTERNAL fault of the server.
 */
export function isStoreUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_GOING.has(code) || code.startsWith('08'))) return true;
  const message = e?.driverError?.message ?? e?.message;
  return typeof message === 'string' && PG_MESSAGES.test(message);
}
