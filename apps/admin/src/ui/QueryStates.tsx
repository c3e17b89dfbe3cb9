import type { ReactNode } from 'react';
import { errorMessage } from '../api/api-error';

export interface LoadingProps {
  label: string;
}

export function Loading({ label }: LoadingProps) {
  return (
    <p role="status" className="muted loading">
      {label}
    </p>
  );
}

export interface ErrorStateProps {
  error: unknown;
  /** What failed, e.g. "Could not load the models". */
  title: string;
  onRetry?: () => void;
}

export function ErrorState({ error, title, onRetry }: ErrorStateProps) {
  return (
    <div role="alert" className="error-box">
      <strong>{title}:</strong> {errorMessage(error)}
      {onRetry && (
        <button type="button" className="secondary" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export interface EmptyStateProps {
  children: ReactNode;
}

export function EmptyState({ children }: EmptyStateProps) {
  return <p className="empty">{children}</p>;
}

export interface InlineErrorProps {
  error: unknown;
  id?: string;
}

/** A server error shown next to the control that caused it. */
export function InlineError({ error, id }: InlineErrorProps) {
  if (!error) return null;
  return (
    <p role="alert" id={id} className="inline-error">
      {errorMessage(error)}
    </p>
  );
}
