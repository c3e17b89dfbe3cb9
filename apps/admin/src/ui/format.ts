/** Display helpers: one place for how numbers and times look in the console. */

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  return perSecond < 10 ? perSecond.toFixed(2) : perSecond.toFixed(1);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** A sha256 is 64 hex digits; 12 tell versions apart and fit a table cell. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

export function versionName(version: number): string {
  return `v${version}`;
}
