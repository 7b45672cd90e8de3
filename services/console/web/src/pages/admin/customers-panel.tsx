import { useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { useAction } from '../../hooks.js';
import { Field, Outcome, Panel } from '../../ui.js';

/** Adding a customer (CONTRACT §3); their id is what a customer token names. */
export function CustomersPanel() {
  const { api } = useConsole();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [run, state] = useAction();
  const create = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const c = await api.admin.customers.create({ name, email });
      setName('');
      setEmail('');
      return `${c.name} added: customer id ${c.id}.`;
    });
  };
  return (
    <Panel id="customers" title="Customers">
      <form class="row" onSubmit={create} aria-label="Add a customer">
        <Field label="Name">
          <input required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Customer email">
          <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={state.busy}>
          Add customer
        </button>
      </form>
      <Outcome state={state} />
    </Panel>
  );
}
