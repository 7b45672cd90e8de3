import type { Experiment, ExperimentArm } from '@dibs/client';
import { useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { type Resource, useAction } from '../../hooks.js';
import { Empty, Field, LoadError, Outcome, Panel } from '../../ui.js';

const NEW_ARM = (n: number): ExperimentArm => ({ name: `arm ${n}`, window_minutes: 5 * n, weight: 1 });

/** Experiments on the window's length (CONTRACT §7): at most one active at a time. */
export function ExperimentsPanel({ experiments }: { experiments: Resource<Experiment[]> }) {
  const { api } = useConsole();
  const [run, state] = useAction();
  const setActive = (e: Experiment, active: boolean) =>
    run(async () => {
      await api.admin.experiments.setActive(e.key, active);
      experiments.reload();
      return `${e.key} is ${active ? 'running' : 'stopped'}.`;
    });
  return (
    <Panel id="experiments" title="Experiments">
      <LoadError error={experiments.error} retry={experiments.reload} />
      {experiments.data?.length === 0 ? <Empty>No experiment yet.</Empty> : null}
      {experiments.data && experiments.data.length > 0 ? (
        <ul class="list">
          {experiments.data.map((e) => (
            <li key={e.key} class="list__row">
              <span>
                <code>{e.key}</code>{' '}
                <span class={`badge badge--${e.active ? 'ok' : 'off'}`}>{e.active ? 'running' : 'stopped'}</span>
                <br />
                <span class="hint">
                  {e.arms.map((a) => `${a.name}: ${a.window_minutes} min × ${a.weight}`).join(' · ')}
                </span>
              </span>
              <button type="button" disabled={state.busy} onClick={() => void setActive(e, !e.active)}>
                {e.active ? 'Stop' : 'Start'}
                <span class="sr-only"> {e.key}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <Outcome state={state} />
      <NewExperiment onCreated={experiments.reload} />
    </Panel>
  );
}

function NewExperiment({ onCreated }: { onCreated: () => void }) {
  const { api } = useConsole();
  const [key, setKey] = useState('');
  const [arms, setArms] = useState<ExperimentArm[]>([NEW_ARM(1), NEW_ARM(2)]);
  const [active, setActive] = useState(false);
  const [run, state] = useAction();
  const setArm = (i: number, change: Partial<ExperimentArm>) =>
    setArms(arms.map((a, j) => (j === i ? { ...a, ...change } : a)));
  const create = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const e = await api.admin.experiments.create({ key: key.trim(), arms, active });
      setKey('');
      onCreated();
      return `Experiment ${e.key} created${e.active ? ' and running' : ''}.`;
    });
  };
  return (
    <form class="stack" onSubmit={create} aria-label="New experiment">
      <h3>New experiment</h3>
      <Field label="Experiment key" hint="Lowercase letters, digits, - and _.">
        <input
          required
          pattern="[a-z0-9][a-z0-9_\-]{0,63}"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
      </Field>
      {arms.map((arm, i) => (
        <fieldset key={`arm-${i + 1}`} class="row">
          <legend>Arm {i + 1}</legend>
          <Field label={`Name of arm ${i + 1}`}>
            <input
              required
              maxLength={64}
              value={arm.name}
              onInput={(e) => setArm(i, { name: e.currentTarget.value })}
            />
          </Field>
          <Field label={`Window of arm ${i + 1} (minutes)`}>
            <input
              type="number"
              min={1}
              max={120}
              required
              value={arm.window_minutes}
              onInput={(e) => setArm(i, { window_minutes: e.currentTarget.valueAsNumber })}
            />
          </Field>
          <Field label={`Weight of arm ${i + 1}`}>
            <input
              type="number"
              min={0.01}
              step="any"
              required
              value={arm.weight}
              onInput={(e) => setArm(i, { weight: e.currentTarget.valueAsNumber })}
            />
          </Field>
        </fieldset>
      ))}
      <div class="buttons">
        <button type="button" disabled={arms.length >= 4} onClick={() => setArms([...arms, NEW_ARM(arms.length + 1)])}>
          Add an arm
        </button>
        <button type="button" disabled={arms.length <= 2} onClick={() => setArms(arms.slice(0, -1))}>
          Remove the last arm
        </button>
      </div>
      <label class="choice">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} />
        Start it now
      </label>
      <Outcome state={state} />
      <button type="submit" class="primary" disabled={state.busy}>
        Create experiment
      </button>
    </form>
  );
}
