import type { CanaryCheck } from '../../../api/types';
import { formatMs, formatPercent, formatTime } from '../../../ui/format';

export interface CanaryChecksProps {
  checks: CanaryCheck[];
  caption: string;
}

/** One row per step verdict: canary against stable for error rate, p99 and agreement. */
export function CanaryChecks({ checks, caption }: CanaryChecksProps) {
  if (checks.length === 0) return <p className="muted small">No step has been judged yet.</p>;
  return (
    <div className="table-wrap">
      <table data-testid="canary-checks">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Step</th>
            <th scope="col" className="num">Requests (canary / stable)</th>
            <th scope="col" className="num">Error rate (canary / stable)</th>
            <th scope="col" className="num">p99 (canary / stable)</th>
            <th scope="col" className="num">Agreement (compared)</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {checks.map((c, i) => (
            <tr key={i}>
              <td>{formatTime(c.at)}</td>
              <td>
                {c.step + 1} · {c.weight}%
              </td>
              <td className="num">
                {c.requests} / {c.stableRequests}
              </td>
              <td className="num">
                {formatPercent(c.errorRate, 2)} / {formatPercent(c.stableErrorRate, 2)}
              </td>
              <td className="num">
                {formatMs(c.p99Ms)} / {formatMs(c.stableP99Ms)}
              </td>
              <td className="num">
                {formatPercent(c.agreement)} ({c.comparisons})
              </td>
              <td>
                <span className={`badge badge-${c.passed ? 'ok' : c.extended ? 'warn' : 'bad'}`}>{c.passed ? 'passed' : c.extended ? 'extended' : 'failed'}</span>{' '}
                {!c.passed && <span className="small">{c.reason}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
