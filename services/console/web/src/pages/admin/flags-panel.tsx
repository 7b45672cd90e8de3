import type { FeatureFlag } from '@dibs/client';
import type { Role } from '@dibs/contracts';
import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { time } from '../../format.js';
import { useAction, useResource } from '../../hooks.js';
import { Field, LoadError, Outcome, Panel } from '../../ui.js';

const ROLES: Role[] = ['customer', 'mechanic', 'admin'];

/** The feature flags (ENABLE_FAVORITES_PRIORITY): on or off, for which roles, for what share (CONTRACT §3). */
export function FlagsPanel() {
  const { api } = useConsole();
  const flags = useResource(() => api.admin.flags.list(), []);
  return (
    <Panel id="flags" title="Feature flag">
      <p class="hint">A change governs every request created a second later; nothing restarts.</p>
      <LoadError error={flags.error} retry={flags.reload} />
      {(flags.data ?? []).map((flag) => (
        <FlagForm key={flag.flag_key} flag={flag} />
      ))}
    </Panel>
  );
}

function FlagForm({ flag }: { flag: FeatureFlag }) {
  const { api } = useConsole();
  const [form, setForm] = useState(flag);
  const [run, state] = useAction();
  useEffect(() => setForm(flag), [flag]);
  const save = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const saved = await api.admin.flags.update(flag.flag_key, {
        is_enabled: form.is_enabled,
        enabled_for_roles: form.enabled_for_roles as Role[],
        rollout_percentage: form.rollout_percentage,
        description: form.description,
      });
      setForm(saved);
      return `${saved.flag_key} is ${saved.is_enabled ? 'on' : 'off'} (saved ${time(saved.updated_at)}).`;
    });
  };
  const toggleRole = (role: Role, on: boolean) =>
    setForm({
      ...form,
      enabled_for_roles: on ? [...form.enabled_for_roles, role] : form.enabled_for_roles.filter((r) => r !== role),
    });
  return (
    <form class="stack flag" onSubmit={save} aria-label={form.flag_key}>
      <h3>
        {form.flag_name} <code>{form.flag_key}</code>{' '}
        <span class={`badge badge--${flag.is_enabled ? 'ok' : 'off'}`}>{flag.is_enabled ? 'on' : 'off'}</span>
      </h3>
      <label class="choice">
        <input
          type="checkbox"
          checked={form.is_enabled}
          onChange={(e) => setForm({ ...form, is_enabled: e.currentTarget.checked })}
        />
        Enabled
      </label>
      <fieldset class="choices">
        <legend>Enabled for roles</legend>
        {ROLES.map((role) => (
          <label key={role} class="choice">
            <input
              type="checkbox"
              checked={form.enabled_for_roles.includes(role)}
              onChange={(e) => toggleRole(role, e.currentTarget.checked)}
            />
            {role}
          </label>
        ))}
      </fieldset>
      <Field label="Rollout (%)">
        <input
          type="number"
          min={0}
          max={100}
          step={1}
          required
          value={form.rollout_percentage}
          onInput={(e) => setForm({ ...form, rollout_percentage: e.currentTarget.valueAsNumber })}
        />
      </Field>
      <Field label="Description">
        <textarea
          rows={2}
          maxLength={1000}
          value={form.description ?? ''}
          onInput={(e) => setForm({ ...form, description: e.currentTarget.value || null })}
        />
      </Field>
      <Outcome state={state} />
      <button type="submit" class="primary" disabled={state.busy}>
        Save flag
      </button>
    </form>
  );
}
