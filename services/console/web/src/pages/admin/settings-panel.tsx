import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { time } from '../../format.js';
import { useAction, useResource } from '../../hooks.js';
import { Field, LoadError, Outcome, Panel } from '../../ui.js';

/** The priority windows (CONTRACT §6): the single window, each tier's, and whether offline favorites are skipped. */
export function SettingsPanel() {
  const { api } = useConsole();
  const settings = useResource(() => api.admin.settings.priority(), []);
  const [single, setSingle] = useState('');
  const [tiers, setTiers] = useState(['', '', '']);
  const [skipOffline, setSkipOffline] = useState(false);
  const [run, state] = useAction();
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setSingle(String(s.default_window_minutes));
    setTiers([0, 1, 2].map((i) => (s.tier_windows_minutes[i] === undefined ? '' : String(s.tier_windows_minutes[i]))));
    setSkipOffline(s.skip_offline_favorites);
  }, [settings.data]);

  const save = (reset: boolean) =>
    run(async () => {
      const tierMinutes = tiers.filter((t) => t.trim() !== '').map(Number);
      const saved = await api.admin.settings.updatePriority({
        default_window_minutes: reset ? null : Number(single),
        tier_windows_minutes: tierMinutes,
        skip_offline_favorites: skipOffline,
      });
      settings.reload();
      return `Saved (${time(saved.updated_at)}): ${saved.default_window_minutes} minutes for one favorite, ${saved.tier_windows_minutes.join(' → ')} for ranked ones.`;
    });

  return (
    <Panel id="settings" title="Windows">
      <LoadError error={settings.error} retry={settings.reload} />
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void save(false);
        }}
      >
        <Field label="Window for one favorite (minutes)" hint="1–120; a mechanic's own window wins over it.">
          <input
            type="number"
            min={1}
            max={120}
            required
            value={single}
            onInput={(e) => setSingle(e.currentTarget.value)}
          />
        </Field>
        <fieldset class="row">
          <legend>Windows of ranked favorites, by tier (minutes)</legend>
          {tiers.map((t, i) => (
            <Field key={`tier-${i + 1}`} label={`Tier ${i + 1}`}>
              <input
                type="number"
                min={1}
                max={120}
                required={i === 0}
                value={t}
                onInput={(e) => setTiers(tiers.map((x, j) => (j === i ? e.currentTarget.value : x)))}
              />
            </Field>
          ))}
        </fieldset>
        <label class="choice">
          <input type="checkbox" checked={skipOffline} onChange={(e) => setSkipOffline(e.currentTarget.checked)} />
          Skip favorites not connected in the last minute
        </label>
        <Outcome state={state} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={state.busy}>
            Save windows
          </button>
          <button type="button" disabled={state.busy} onClick={() => void save(true)}>
            Back to the default single window
          </button>
        </div>
      </form>
    </Panel>
  );
}
