import type { Favorite, MechanicListItem } from '@dibs/client';
import { useEffect, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { describeError, type Resource, useAction } from '../../hooks.js';
import { Empty, Field, Outcome, Panel } from '../../ui.js';

const PAGE = 10;

/** Approved mechanics (GET /v1/mechanics, CONTRACT §8), searchable by name, to add as favorites. */
export function DirectoryPanel({
  favorites,
  onFound,
}: {
  favorites: Resource<Favorite[]>;
  onFound: (items: MechanicListItem[]) => void;
}) {
  const { api } = useConsole();
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<MechanicListItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [run, state] = useAction();

  // Searches as the customer types, a moment after the last key.
  useEffect(() => {
    let current = true;
    setLoading(true);
    const timer = setTimeout(() => {
      api.mechanics.list({ ...(query.trim() ? { query: query.trim() } : {}), limit: PAGE }).then(
        (page) => {
          if (!current) return;
          setItems(page.items);
          setNext(page.next_cursor);
          setError(undefined);
          setLoading(false);
          onFound(page.items);
        },
        (err: unknown) => {
          if (!current) return;
          setError(describeError(err));
          setLoading(false);
        },
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, query, onFound]);

  const more = async () => {
    if (!next) return;
    try {
      const page = await api.mechanics.list({
        ...(query.trim() ? { query: query.trim() } : {}),
        limit: PAGE,
        cursor: next,
      });
      setItems((list) => [...list, ...page.items]);
      setNext(page.next_cursor);
      onFound(page.items);
    } catch (err) {
      setError(describeError(err));
    }
  };
  const isFavorite = new Set((favorites.data ?? []).map((f) => f.mechanic_id));
  const add = (m: MechanicListItem) =>
    run(async () => {
      await api.favorites.add(m.id);
      favorites.reload();
      return `${m.first_name} ${m.last_name} is now one of your favorites.`;
    });

  return (
    <Panel title="Mechanics">
      <search class="stack">
        <Field label="Find a mechanic" hint="Part of a name; leave empty to list everyone.">
          <input type="search" value={query} autocomplete="off" onInput={(e) => setQuery(e.currentTarget.value)} />
        </Field>
      </search>
      <Outcome state={state} />
      {error ? (
        <p class="outcome outcome--error" role="alert">
          {error}
        </p>
      ) : null}
      {!loading && items.length === 0 && !error ? <Empty>No approved mechanic matches.</Empty> : null}
      <ul class="list" aria-label="Approved mechanics" aria-busy={loading}>
        {items.map((m) => {
          const name = `${m.first_name} ${m.last_name}`;
          return (
            <li key={m.id} class="list__row">
              <span>{name}</span>
              {isFavorite.has(m.id) ? (
                <span class="badge badge--ok">★ favorite</span>
              ) : (
                <button
                  type="button"
                  aria-label={`Add to favorites: ${name}`}
                  disabled={state.busy}
                  onClick={() => void add(m)}
                >
                  Add to favorites
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {next ? (
        <button type="button" onClick={() => void more()}>
          Show more mechanics
        </button>
      ) : null}
    </Panel>
  );
}
