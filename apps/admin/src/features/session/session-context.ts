import { createContext, useContext } from 'react';
import type { Role, SessionView } from '../../api/types';

export interface Session {
  view: SessionView;
  role: Role;
  /** False in dev mode (SERVABLE_AUTH=off), where no key is needed. */
  authOn: boolean;
  hasKey: boolean;
  can: (needed: Role) => boolean;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}
