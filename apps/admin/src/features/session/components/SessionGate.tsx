import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError } from '../../../api/api-error';
import type { KeyStore } from '../../../api/key-store';
import { queryKeys } from '../../../api/query-keys';
import { hasRole, type Role, type SessionView } from '../../../api/types';
import { ErrorState, Loading } from '../../../ui/QueryStates';
import { useSessionQuery } from '../hooks/use-session';
import { SessionContext, type Session } from '../session-context';
import { SignInPage } from './SignInPage';

export interface SessionGateProps {
  keyStore: KeyStore;
  children: ReactNode;
}

const REFUSED = 'Your key is no longer accepted. Sign in again.';

const isUnauthenticated = (err: unknown) => err instanceof ApiError && err.status === 401;

/**
 * Decides between the sign-in page and the console. With no stored key it first asks
 * /session without one: a gateway in dev mode (auth off) answers 200 and the console opens.
 */
export function SessionGate({ keyStore, children }: SessionGateProps) {
  const queryClient = useQueryClient();
  const [key, setKey] = useState<string | null>(() => keyStore.get());
  const [notice, setNotice] = useState<string | null>(null);
  const query = useSessionQuery(key, keyStore);

  const signOut = useCallback(
    (why: string | null = null) => {
      keyStore.clear();
      queryClient.removeQueries();
      setNotice(why);
      setKey(null);
    },
    [keyStore, queryClient],
  );

  // A key revoked while the console is open: the next call answers 401.
  useEffect(() => {
    if (key === null) return;
    return queryClient.getQueryCache().subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'error' && event.query.queryKey[0] !== 'session' && isUnauthenticated(event.action.error)) {
        signOut(REFUSED);
      }
    });
  }, [key, queryClient, signOut]);

  const onSignedIn = (newKey: string, view: SessionView) => {
    keyStore.set(newKey);
    queryClient.setQueryData(queryKeys.session(newKey), view);
    setNotice(null);
    setKey(newKey);
  };

  const view = query.data;
  const signedIn = view !== undefined && view.role !== null && (view.auth === 'off' || key !== null);
  const session = useMemo<Session | null>(
    () =>
      view && view.role !== null && signedIn
        ? {
            view,
            role: view.role,
            authOn: view.auth === 'on',
            hasKey: key !== null,
            can: (needed) => hasRole(view.role as Role, needed),
            signOut: () => signOut(null),
          }
        : null,
    [view, signedIn, key, signOut],
  );

  if (query.isPending) {
    return (
      <main className="sign-in">
        <Loading label="Checking your session…" />
      </main>
    );
  }
  if (query.error && !isUnauthenticated(query.error)) {
    return (
      <main className="sign-in">
        <ErrorState title="Could not reach the admin API" error={query.error} onRetry={() => void query.refetch()} />
      </main>
    );
  }
  if (!session) {
    // A stored key that the gateway refused is gone from the store already (useSessionQuery).
    const refused = key !== null && isUnauthenticated(query.error);
    return <SignInPage onSignedIn={onSignedIn} notice={refused ? REFUSED : notice} />;
  }
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}
