import { createDibsApi, type Mechanic } from '@dibs/client';
import type { Role } from '@dibs/contracts';
import { useState } from 'preact/hooks';
import { useAction, useResource } from '../hooks.js';
import type { Runtime } from '../runtime.js';
import { devToken, type Session, sessionFromToken } from '../session.js';
import { Field, LoadError, Outcome, Panel } from '../ui.js';

/** Signing in: paste a token (or open the console with `?token=`), or the development sign-in. */
export function SignIn({ runtime, onSignedIn }: { runtime: Runtime; onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = (event: Event) => {
    event.preventDefault();
    const session = sessionFromToken(token);
    if (session instanceof Error) setError(session.message);
    else onSignedIn(session);
  };
  return (
    <main class="page page--narrow" id="main">
      <h1>Sign in</h1>
      <Panel title="With a token">
        <form onSubmit={submit} class="stack">
          <Field
            label="Token"
            hint="A dibs bearer token (npm run token -- --role <role> --sub <uuid>). The page of its role opens."
          >
            <textarea
              name="token"
              rows={3}
              required
              spellcheck={false}
              autocomplete="off"
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
            />
          </Field>
          {error ? (
            <p class="outcome outcome--error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      </Panel>
      {runtime.devLogin ? <DevSignIn runtime={runtime} onSignedIn={onSignedIn} /> : null}
    </main>
  );
}

/** Exists only outside production: tokens minted by the console server for any role. */
function DevSignIn({ runtime, onSignedIn }: { runtime: Runtime; onSignedIn: (s: Session) => void }) {
  const [role, setRole] = useState<Role>('admin');
  const [run, state] = useAction();
  const [mechanicId, setMechanicId] = useState('');
  const [customerId, setCustomerId] = useState('');
  const [name, setName] = useState('');
  // An admin's API, to list mechanics and to create the mechanic or customer to sign in as.
  const admin = async () => createDibsApi({ baseUrl: runtime.apiUrl, token: (await devToken('admin')).token });
  const mechanics = useResource<Mechanic[]>(
    async () => (role === 'mechanic' ? (await admin()).admin.mechanics.list() : []),
    [role],
  );

  const signIn = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      if (role === 'admin') {
        onSignedIn(await devToken('admin'));
        return undefined;
      }
      let sub = role === 'mechanic' ? mechanicId : customerId.trim();
      if (!sub) {
        const [first = '', ...rest] = name.trim().split(/\s+/);
        if (!first) throw new Error(`Pick a ${role}, or give the name of a new one.`);
        const email = `${first.toLowerCase()}.${crypto.randomUUID().slice(0, 8)}@dev.dibs.test`;
        const api = await admin();
        if (role === 'mechanic') {
          const created = await api.admin.mechanics.create({
            first_name: first,
            last_name: rest.join(' ') || first,
            email,
          });
          await api.admin.mechanics.update(created.id, { status: 'approved' });
          sub = created.id;
        } else {
          sub = (await api.admin.customers.create({ name: name.trim(), email })).id;
        }
      }
      onSignedIn(await devToken(role, sub));
      return undefined;
    });
  };

  return (
    <Panel title="Development sign-in">
      <p class="hint">Not in production: the console server signs a token for whoever you choose.</p>
      <form onSubmit={signIn} class="stack">
        <fieldset class="choices">
          <legend>Sign in as</legend>
          {(['admin', 'mechanic', 'customer'] as const).map((r) => (
            <label key={r} class="choice">
              <input type="radio" name="dev-role" value={r} checked={role === r} onChange={() => setRole(r)} />
              {r}
            </label>
          ))}
        </fieldset>
        {role === 'mechanic' ? (
          <>
            <LoadError error={mechanics.error} retry={mechanics.reload} />
            <Field label="Mechanic">
              <select value={mechanicId} onChange={(e) => setMechanicId(e.currentTarget.value)}>
                <option value="">A new mechanic (named below)</option>
                {(mechanics.data ?? []).map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.first_name} {m.last_name} ({m.status})
                  </option>
                ))}
              </select>
            </Field>
          </>
        ) : null}
        {role === 'customer' ? (
          <Field label="Customer id" hint="Leave empty to create a new customer named below.">
            <input value={customerId} spellcheck={false} onInput={(e) => setCustomerId(e.currentTarget.value)} />
          </Field>
        ) : null}
        {role !== 'admin' && !(role === 'mechanic' ? mechanicId : customerId) ? (
          <Field label={`Name of the new ${role}`}>
            <input value={name} autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
        ) : null}
        <Outcome state={state} />
        <button type="submit" class="primary" disabled={state.busy}>
          Sign in as {role}
        </button>
      </form>
    </Panel>
  );
}
