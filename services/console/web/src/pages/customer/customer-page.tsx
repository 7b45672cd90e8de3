import type { Favorite, MechanicListItem } from '@dibs/client';
import { useCallback, useMemo, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { useResource } from '../../hooks.js';
import { BookingPanel } from './booking-panel.js';
import { DirectoryPanel } from './directory-panel.js';
import { FavoritesPanel } from './favorites-panel.js';
import { useLiveRequests } from './live-requests.js';
import { RequestsPanel } from './requests-panel.js';

/** Names of the mechanics the page has seen (favorites, directory), by id. */
export type MechanicNames = ReadonlyMap<string, string>;

/** A customer's page: find mechanics, keep and rank favorites, book, and watch each request live. */
export function CustomerPage() {
  const { api } = useConsole();
  const favorites = useResource<Favorite[]>(() => api.favorites.list(), []);
  const [seen, setSeen] = useState<ReadonlyMap<string, string>>(new Map());
  const live = useLiveRequests();

  const remember = useCallback((items: MechanicListItem[]) => {
    setSeen((current) => {
      const next = new Map(current);
      for (const m of items) next.set(m.id, `${m.first_name} ${m.last_name}`);
      return next;
    });
  }, []);
  const names = useMemo<MechanicNames>(() => {
    const all = new Map(seen);
    for (const f of favorites.data ?? []) all.set(f.mechanic_id, `${f.first_name} ${f.last_name}`);
    return all;
  }, [seen, favorites.data]);

  return (
    <>
      <h1>Book a mechanic</h1>
      <div class="columns">
        <div>
          <DirectoryPanel favorites={favorites} onFound={remember} />
          <FavoritesPanel favorites={favorites} />
        </div>
        <div>
          <BookingPanel favorites={favorites.data ?? []} onBooked={live.upsert} />
          <RequestsPanel live={live} names={names} />
        </div>
      </div>
    </>
  );
}
