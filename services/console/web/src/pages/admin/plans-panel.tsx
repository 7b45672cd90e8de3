import { useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { money } from '../../format.js';
import { useAction, useResource } from '../../hooks.js';
import { Field, LoadError, Outcome, Panel } from '../../ui.js';

/** Plans and their prices (CONTRACT §7): what the revenue report counts. */
export function PlansPanel() {
  const { api } = useConsole();
  const plans = useResource(() => api.admin.plans.list(), []);
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [price, setPrice] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const [run, state] = useAction();
  const save = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const plan = await api.admin.plans.put(code.trim(), {
        name,
        price_cents: Math.round(Number(price) * 100),
        currency: currency.toUpperCase(),
      });
      plans.reload();
      return `Plan ${plan.code} costs ${money(plan.price_cents, plan.currency)}.`;
    });
  };
  return (
    <Panel id="plans" title="Plans">
      <LoadError error={plans.error} retry={plans.reload} />
      {plans.data && plans.data.length > 0 ? (
        <ul class="list">
          {plans.data.map((p) => (
            <li key={p.code}>
              <code>{p.code}</code> {p.name}: {money(p.price_cents, p.currency)}
            </li>
          ))}
        </ul>
      ) : null}
      <form class="row" onSubmit={save} aria-label="Set a plan's price">
        <Field label="Plan code">
          <input required maxLength={100} value={code} onInput={(e) => setCode(e.currentTarget.value)} />
        </Field>
        <Field label="Plan name">
          <input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Price">
          <input
            type="number"
            min={0}
            step={0.01}
            required
            value={price}
            onInput={(e) => setPrice(e.currentTarget.value)}
          />
        </Field>
        <Field label="Currency">
          <input
            required
            pattern="[A-Za-z]{3}"
            maxLength={3}
            value={currency}
            onInput={(e) => setCurrency(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" disabled={state.busy}>
          Save plan
        </button>
      </form>
      <Outcome state={state} />
    </Panel>
  );
}
