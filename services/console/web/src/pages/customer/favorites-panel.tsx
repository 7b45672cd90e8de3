import type { Favorite } from '@dibs/client';
import { useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { type Resource, useAction } from '../../hooks.js';
import { Empty, LoadError, Outcome, Panel } from '../../ui.js';

/** The customer's favorites and their ranking: up to three, offered a request in that order (CONTRACT §6). */
export function FavoritesPanel({ favorites }: { favorites: Resource<Favorite[]> }) {
  const { api } = useConsole();
  // The ranks the customer picked and has not saved yet: a reload of the list (a favorite added)
  // keeps them, and the saved ranks show for the others.
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [run, state] = useAction();
  const rankOf = (f: Favorite) => edits[f.mechanic_id] ?? (f.rank ? String(f.rank) : '');

  const list = favorites.data ?? [];
  const save = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const ranked = list.filter((f) => rankOf(f)).sort((a, b) => Number(rankOf(a)) - Number(rankOf(b)));
      if (ranked.length === 0) throw new Error('Give at least one favorite a rank (1 is offered first).');
      const taken = new Set(ranked.map(rankOf));
      if (taken.size !== ranked.length) throw new Error('Two favorites have the same rank: give each its own.');
      const saved = await api.favorites.setOrder(ranked.map((f) => f.mechanic_id));
      setEdits({});
      favorites.reload();
      const order = saved.filter((f) => f.rank !== null).map((f) => `${f.rank}. ${f.first_name} ${f.last_name}`);
      return `Ranking saved: ${order.join(', ')}.`;
    });
  };
  const remove = (f: Favorite) =>
    run(async () => {
      await api.favorites.remove(f.mechanic_id);
      favorites.reload();
      return `${f.first_name} ${f.last_name} is no longer a favorite.`;
    });

  return (
    <Panel title="Your favorites">
      <LoadError error={favorites.error} retry={favorites.reload} />
      {favorites.data && list.length === 0 ? <Empty>None yet: add mechanics from the list above.</Empty> : null}
      {list.length > 0 ? (
        <form class="stack" onSubmit={save}>
          <p class="hint">
            Rank up to three: a request booked "in turn" is offered to rank 1 first, then 2, then 3, then everyone.
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Mechanic</th>
                  <th scope="col">Rank</th>
                  <th scope="col">
                    <span class="sr-only">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((f) => {
                  const name = `${f.first_name} ${f.last_name}`;
                  return (
                    <tr key={f.mechanic_id}>
                      <td>
                        {name}
                        {f.status !== 'approved' ? <span class="badge"> {f.status}</span> : null}
                      </td>
                      <td>
                        <select
                          aria-label={`Rank of ${name}`}
                          value={rankOf(f)}
                          onChange={(e) => setEdits({ ...edits, [f.mechanic_id]: e.currentTarget.value })}
                        >
                          <option value="">not ranked</option>
                          <option value="1">1</option>
                          <option value="2">2</option>
                          <option value="3">3</option>
                        </select>
                      </td>
                      <td>
                        <button type="button" class="link" disabled={state.busy} onClick={() => void remove(f)}>
                          Remove<span class="sr-only"> {name}</span>
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Outcome state={state} />
          <button type="submit" class="primary" disabled={state.busy}>
            Save ranking
          </button>
        </form>
      ) : null}
    </Panel>
  );
}
