import { errorMessage } from '../../../api/api-error';
import { versionName } from '../../../ui/format';
import { ErrorState } from '../../../ui/QueryStates';

export interface RunFailure {
  version: number;
  error: unknown;
}

export interface RunErrorsProps {
  failures: RunFailure[];
  onRetry: () => void;
}

const list = (versions: number[]) => {
  const names = versions.map(versionName);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
};

/**
 * A version's run covers every text, so its error is said once here rather than in each of its
 * cards; versions that failed alike (a gateway that is down) share one message.
 */
export function RunErrors({ failures, onRetry }: RunErrorsProps) {
  if (failures.length === 0) return null;
  const byMessage = new Map<string, number[]>();
  for (const f of failures) {
    const message = errorMessage(f.error);
    byMessage.set(message, [...(byMessage.get(message) ?? []), f.version]);
  }
  if (byMessage.size === 1) {
    const [[message, versions]] = byMessage;
    return <ErrorState title={`${list(versions)} did not answer`} error={new Error(message)} onRetry={onRetry} />;
  }
  return (
    <div role="alert" className="error-box">
      <strong>Some versions did not answer:</strong>
      <ul className="run-errors">
        {[...byMessage].map(([message, versions]) => (
          <li key={message}>
            {list(versions)}: {message}
          </li>
        ))}
      </ul>
      <button type="button" className="secondary" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
