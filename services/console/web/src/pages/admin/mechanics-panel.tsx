import type { Mechanic } from '@dibs/client';
import type { MechanicStatus } from '@dibs/contracts';
import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { useAction, useResource } from '../../hooks.js';
import { Empty, Field, LoadError, Outcome, Panel } from '../../ui.js';

const STATUSES: MechanicStatus[] = ['pending', 'approved', 'suspended'];

/** Mechanics: add one, approve or suspend, give one a priority window of its own (CONTRACT §3, §6). */
export function MechanicsPanel() {
  const { api } = useConsole();
  const mechanics = useResource(() => api.admin.mechanics.list(), []);
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [email, setEmail] = useState('');
  const [run, state] = useAction();
  const create = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const m = await api.admin.mechanics.create({ first_name: first, last_name: last, email });
      setFirst('');
      setLast('');
      setEmail('');
      mechanics.reload();
      return `${m.first_name} ${m.last_name} added (pending until approved).`;
    });
  };
  return (
    <Panel id="mechanics" title="Mechanics">
      <form class="row" onSubmit={create} aria-label="Add a mechanic">
        <Field label="First name">
          <input required maxLength={100} value={first} onInput={(e) => setFirst(e.currentTarget.value)} />
        </Field>
        <Field label="Last name">
          <input required maxLength={100} value={last} onInput={(e) => setLast(e.currentTarget.value)} />
        </Field>
        <Field label="Email">
          <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={state.busy}>
          Add mechanic
        </button>
      </form>
      <Outcome state={state} />
      <LoadError error={mechanics.error} retry={mechanics.reload} />
      {mechanics.data?.length === 0 ? <Empty>No mechanics yet.</Empty> : null}
      {mechanics.data && mechanics.data.length > 0 ? (
        <div class="table-wrap">
          <table class="mechanics">
            <thead>
              <tr>
                <th scope="col">Mechanic</th>
                <th scope="col">Status</th>
                <th scope="col">Own window (minutes)</th>
                <th scope="col">
                  <span class="sr-only">Save</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {mechanics.data.map((m) => (
                <MechanicRow key={m.id} mechanic={m} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Panel>
  );
}

function MechanicRow({ mechanic }: { mechanic: Mechanic }) {
  const { api } = useConsole();
  const [m, setM] = useState(mechanic);
  const [status, setStatus] = useState<MechanicStatus>(mechanic.status);
  const [ownWindow, setOwnWindow] = useState(mechanic.priority_window_minutes?.toString() ?? '');
  const [run, state] = useAction();
  useEffect(() => setM(mechanic), [mechanic]);
  const name = `${m.first_name} ${m.last_name}`;
  const save = (change: { status?: MechanicStatus }) =>
    run(async () => {
      const saved = await api.admin.mechanics.update(m.id, {
        status: change.status ?? status,
        priority_window_minutes: ownWindow.trim() === '' ? null : Number(ownWindow),
      });
      setM(saved);
      setStatus(saved.status);
      const own = saved.priority_window_minutes;
      return `${name}: ${saved.status}, ${own === null ? 'the default window' : `own window ${own} min`}.`;
    });
  return (
    <tr>
      <td>
        {name}
        <br />
        <span class="hint">{m.email}</span>
      </td>
      <td>
        <select
          aria-label={`Status of ${name}`}
          value={status}
          onChange={(e) => setStatus(e.currentTarget.value as MechanicStatus)}
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        {m.status === 'pending' ? (
          <button type="button" class="link" disabled={state.busy} onClick={() => void save({ status: 'approved' })}>
            Approve<span class="sr-only"> {name}</span>
          </button>
        ) : null}
      </td>
      <td>
        <input
          type="number"
          min={1}
          max={120}
          placeholder="default"
          aria-label={`Own window of ${name} (minutes, empty for the default)`}
          value={ownWindow}
          onInput={(e) => setOwnWindow(e.currentTarget.value)}
        />
      </td>
      <td>
        <button type="button" disabled={state.busy} onClick={() => void save({})}>
          Save<span class="sr-only"> {name}</span>
        </button>
        <Outcome state={state} />
      </td>
    </tr>
  );
}
