import { createDibsApi } from '@dibs/client';
import type { Role } from '@dibs/contracts';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Console, type ConsoleContext } from './context.js';
import { AdminPage } from './pages/admin/admin-page.js';
import { CustomerPage } from './pages/customer/customer-page.js';
import { MechanicPage } from './pages/mechanic/mechanic-page.js';
import { SignIn } from './pages/sign-in.js';
import { loadRuntime, type Runtime } from './runtime.js';
import { devToken, initialSession, type Session, storeSession } from './session.js';

/** A development sign-in is renewed this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;

const PAGE_TITLES: Record<Role, string> = {
  mechanic: 'Mechanic',
  customer: 'Customer',
  admin: 'Admin',
};

/** The console: the runtime config, then the sign-in or the page of the signed-in role. */
export function App() {
  const [runtime, setRuntime] = useState<Runtime | Error | undefined>(undefined);
  const [start] = useState(initialSession);
  const [session, setSession] = useState<Session | undefined>(start instanceof Error ? undefined : start);
  const [notice, setNotice] = useState<string | undefined>(start instanceof Error ? start.message : undefined);

  useEffect(() => {
    loadRuntime().then(setRuntime, (err: Error) => setRuntime(err));
  }, []);

  // The address bar names the page shown: /mechanic, /customer or /admin once signed in.
  useLayoutEffect(() => {
    const path = session ? `/${session.role}` : '/';
    if (window.location.pathname !== path) window.history.replaceState(null, '', path);
    document.title = session ? `${PAGE_TITLES[session.role]} — dibs console` : 'Sign in — dibs console';
  }, [session]);

  const signIn = useCallback((next: Session) => {
    storeSession(next);
    setNotice(undefined);
    setSession(next);
  }, []);
  const signOut = useCallback((reason?: string) => {
    storeSession(undefined);
    setNotice(reason);
    setSession(undefined);
  }, []);

  if (runtime === undefined) return <p class="boot">Loading the dibs console…</p>;
  if (runtime instanceof Error) {
    return (
      <main class="page">
        <p class="outcome outcome--error" role="alert">
          The console cannot start: {runtime.message}
        </p>
      </main>
    );
  }
  return (
    <div class="shell">
      <header class="topbar">
        <p class="topbar__brand">
          <strong>dibs</strong> console
        </p>
        {session ? (
          <div class="topbar__who">
            <span>
              Signed in as <strong>{session.role}</strong> <code title={session.sub}>{session.sub.slice(0, 8)}</code>
            </span>
            <button type="button" onClick={() => signOut()}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      {notice ? (
        <p class="outcome outcome--error notice" role="alert">
          {notice}
        </p>
      ) : null}
      {session ? (
        <SignedIn key={session.token} session={session} runtime={runtime} onSignOut={signOut} />
      ) : (
        <SignIn runtime={runtime} onSignedIn={signIn} />
      )}
    </div>
  );
}

function SignedIn({
  session,
  runtime,
  onSignOut,
}: {
  session: Session;
  runtime: Runtime;
  onSignOut: (reason?: string) => void;
}) {
  const current = useRef(session);
  const token = useCallback(async () => {
    const s = current.current;
    if (s.dev && s.expiresAt !== undefined && s.expiresAt - Date.now() < RENEW_BEFORE_MS) {
      current.current = await devToken(s.role, s.sub);
      storeSession(current.current);
    }
    return current.current.token;
  }, []);
  const context = useMemo<ConsoleContext>(
    () => ({
      session,
      runtime,
      api: createDibsApi({ baseUrl: runtime.apiUrl, token }),
      token,
      signOut: onSignOut,
    }),
    [session, runtime, token, onSignOut],
  );
  // A token without a renewal ends the session when it expires.
  useEffect(() => {
    if (session.dev || session.expiresAt === undefined) return;
    const timer = setTimeout(
      () => onSignOut('Your token has expired: sign in again.'),
      Math.min(session.expiresAt - Date.now(), 2 ** 31 - 1),
    );
    return () => clearTimeout(timer);
  }, [session, onSignOut]);
  return (
    <Console.Provider value={context}>
      <main class="page" id="main">
        {session.role === 'mechanic' ? <MechanicPage /> : null}
        {session.role === 'customer' ? <CustomerPage /> : null}
        {session.role === 'admin' ? <AdminPage /> : null}
      </main>
    </Console.Provider>
  );
}
