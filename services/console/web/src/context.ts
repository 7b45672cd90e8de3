import type { DibsApi } from '@dibs/client';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Runtime } from './runtime.js';
import type { Session } from './session.js';

/** What every page works with: the signed-in session, the SDK bound to it, and the gateway's URL. */
export interface ConsoleContext {
  session: Session;
  runtime: Runtime;
  api: DibsApi;
  /** The current token (a development sign-in renewed when it nears expiry), for the gateway. */
  token: () => Promise<string>;
  /** Signs out when the API says the token is no longer good. */
  signOut(reason?: string): void;
}

export const Console = createContext<ConsoleContext | undefined>(undefined);

export function useConsole(): ConsoleContext {
  const value = useContext(Console);
  if (!value) throw new Error('useConsole outside <Console.Provider>');
  return value;
}
