import type { Availability, ScheduleInterval } from '@dibs/client';
import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { useAction, useResource } from '../../hooks.js';
import { Field, LoadError, Outcome, Panel } from '../../ui.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const ZONES = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];

/** Whether, when and in which time zone the mechanic takes priority offers (CONTRACT §6). */
export function AvailabilityPanel() {
  const { api } = useConsole();
  const loaded = useResource(() => api.mechanics.availability(), []);
  const [form, setForm] = useState<Availability | undefined>(undefined);
  const [run, state] = useAction();
  useEffect(() => {
    if (loaded.data) setForm(loaded.data);
  }, [loaded.data]);

  if (!form) {
    return (
      <Panel title="Availability">
        <LoadError error={loaded.error} retry={loaded.reload} />
      </Panel>
    );
  }
  const schedule = form.schedule ?? [];
  const setSlot = (i: number, change: Partial<ScheduleInterval>) =>
    setForm({ ...form, schedule: schedule.map((s, j) => (j === i ? { ...s, ...change } : s)) });
  const save = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const saved = await api.mechanics.setAvailability({
        available: form.available,
        schedule: form.schedule,
        timezone: form.timezone,
      });
      setForm(saved);
      return saved.available ? 'Saved: you take priority offers.' : 'Saved: you are away; favorites are skipped.';
    });
  };

  return (
    <Panel title="Availability">
      <form class="stack" onSubmit={save}>
        <label class="choice">
          <input
            type="checkbox"
            checked={form.available}
            onChange={(e) => setForm({ ...form, available: e.currentTarget.checked })}
          />
          Available for priority offers
        </label>
        <Field label="Time zone">
          <input
            list="time-zones"
            value={form.timezone}
            onInput={(e) => setForm({ ...form, timezone: e.currentTarget.value })}
          />
        </Field>
        <datalist id="time-zones">
          {ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <label class="choice">
          <input
            type="checkbox"
            checked={form.schedule !== null}
            onChange={(e) =>
              setForm({
                ...form,
                schedule: e.currentTarget.checked ? [{ day: 1, from: '09:00', to: '17:00' }] : null,
              })
            }
          />
          Only at set times each week
        </label>
        {form.schedule !== null ? (
          <fieldset class="schedule">
            <legend>Weekly schedule</legend>
            <p class="hint">Times in your time zone; a "to" of 00:00 means until midnight.</p>
            {schedule.map((slot, i) => (
              <div class="schedule__row" key={i}>
                <Field label={`Day of slot ${i + 1}`}>
                  <select value={slot.day} onChange={(e) => setSlot(i, { day: Number(e.currentTarget.value) })}>
                    {DAYS.map((d, n) => (
                      <option key={d} value={n}>
                        {d}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field label={`From (slot ${i + 1})`}>
                  <input
                    type="time"
                    required
                    value={slot.from}
                    onInput={(e) => setSlot(i, { from: e.currentTarget.value })}
                  />
                </Field>
                <Field label={`To (slot ${i + 1})`}>
                  <input
                    type="time"
                    required
                    value={slot.to === '24:00' ? '00:00' : slot.to}
                    onInput={(e) =>
                      setSlot(i, { to: e.currentTarget.value === '00:00' ? '24:00' : e.currentTarget.value })
                    }
                  />
                </Field>
                <button
                  type="button"
                  class="link"
                  onClick={() => setForm({ ...form, schedule: schedule.filter((_, j) => j !== i) })}
                >
                  Remove slot {i + 1}
                </button>
              </div>
            ))}
            <button
              type="button"
              onClick={() => setForm({ ...form, schedule: [...schedule, { day: 1, from: '09:00', to: '17:00' }] })}
            >
              Add a slot
            </button>
          </fieldset>
        ) : null}
        <Outcome state={state} />
        <button type="submit" class="primary" disabled={state.busy}>
          Save availability
        </button>
      </form>
    </Panel>
  );
}
