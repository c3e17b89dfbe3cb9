import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../../../api/api-error';
import type { SessionView } from '../../../api/types';
import { useVerifyKey } from '../hooks/use-session';

export interface SignInPageProps {
  onSignedIn: (key: string, session: SessionView) => void;
  /** Why the user is here again, e.g. a key that stopped working. */
  notice?: string | null;
}

export function SignInPage({ onSignedIn, notice }: SignInPageProps) {
  const [key, setKey] = useState('');
  const verify = useVerifyKey();

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return;
    verify.mutate(trimmed, { onSuccess: (session) => onSignedIn(trimmed, session) });
  };

  const error = verify.error;
  const message =
    error instanceof ApiError && error.status === 401
      ? 'This key was not accepted: it is unknown or revoked.'
      : error
        ? errorMessage(error)
        : null;

  return (
    <main className="sign-in">
      <form onSubmit={onSubmit} className="card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Servable console</h1>
        <p className="muted">Sign in with an API key. It is kept in this tab only (sessionStorage).</p>
        {notice && (
          <p role="status" className="notice">
            {notice}
          </p>
        )}
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-describedby={message ? 'sign-in-error' : undefined}
          aria-invalid={message ? true : undefined}
          required
        />
        {message && (
          <p role="alert" id="sign-in-error" className="inline-error">
            {message}
          </p>
        )}
        <button type="submit" disabled={verify.isPending || key.trim() === ''}>
          {verify.isPending ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
