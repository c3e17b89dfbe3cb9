/**
 * Tests that need several gateway processes on one control plane need PostgreSQL (PGlite is one
 * process). Without DATABASE_URL they skip, except under CI=true, where CI provides PostgreSQL and
 * a missing DATABASE_URL is a broken pipeline: there they run and fail with `requirePostgres`.
 */
export const CI = !!process.env['CI'] && process.env['CI'] !== 'false';
export const skipWithoutPostgres = !process.env['DATABASE_URL'] && !CI;

export function requirePostgres(what: string): void {
  if (!process.env['DATABASE_URL']) throw new Error(`${what} needs PostgreSQL: DATABASE_URL is not set under CI`);
}
