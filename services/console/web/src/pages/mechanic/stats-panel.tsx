import { useEffect } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { money, num, time } from '../../format.js';
import { useResource } from '../../hooks.js';
import { Empty, LoadError, Panel } from '../../ui.js';

/** Reloads every half minute, as analytics catches up with what happened. */
const REFRESH_MS = 30_000;

/** The mechanic's numbers (CONTRACT §3, §7), from analytics' read model. */
export function StatsPanel({ refreshKey }: { refreshKey: number }) {
  const { api } = useConsole();
  const stats = useResource(() => api.mechanics.stats(), []);
  const { reload } = stats;
  useEffect(() => {
    const first = setTimeout(reload, refreshKey > 0 ? 1000 : REFRESH_MS);
    const every = setInterval(reload, REFRESH_MS);
    return () => {
      clearTimeout(first);
      clearInterval(every);
    };
  }, [refreshKey, reload]);
  const s = stats.data;
  return (
    <Panel
      title="Your numbers"
      actions={
        <button type="button" onClick={reload} disabled={stats.loading}>
          Refresh numbers
        </button>
      }
    >
      <LoadError error={stats.error} retry={reload} />
      {s ? (
        <dl class="figures">
          <div>
            <dt>Favorited by</dt>
            <dd>{s.favorited_by}</dd>
          </div>
          <div>
            <dt>Priority offers</dt>
            <dd>{s.priority_requests}</dd>
          </div>
          <div>
            <dt>Priority accepted</dt>
            <dd>{s.priority_accepted}</dd>
          </div>
          <div>
            <dt>Acceptance rate</dt>
            <dd>{s.priority_acceptance_rate} %</dd>
          </div>
          <div>
            <dt>Average answer</dt>
            <dd>{s.avg_priority_response_seconds === null ? '—' : `${num(s.avg_priority_response_seconds)} s`}</dd>
          </div>
          <div>
            <dt>Repeat customers</dt>
            <dd>{s.repeat_customers}</dd>
          </div>
          <div>
            <dt>Earnings</dt>
            <dd>
              {s.earnings_cents === null
                ? s.earnings_by_currency.map((e) => money(e.earnings_cents, e.currency)).join(' + ')
                : money(s.earnings_cents, s.earnings_currency)}
            </dd>
          </div>
          <div>
            <dt>From favorites</dt>
            <dd>
              {s.earnings_from_favorites_cents === null
                ? s.earnings_by_currency.map((e) => money(e.earnings_from_favorites_cents, e.currency)).join(' + ')
                : money(s.earnings_from_favorites_cents, s.earnings_currency)}
            </dd>
          </div>
          <div>
            <dt>Seen after</dt>
            <dd>{s.avg_seen_seconds === null ? '—' : `${num(s.avg_seen_seconds)} s`}</dd>
          </div>
          <div>
            <dt>Offers never seen</dt>
            <dd>{s.offers_never_seen}</dd>
          </div>
        </dl>
      ) : null}
    </Panel>
  );
}

/** Customers who made the mechanic a favorite (CONTRACT §7): first names only. */
export function FavoritedByPanel() {
  const { api } = useConsole();
  const list = useResource(() => api.mechanics.favoritedBy(), []);
  return (
    <Panel
      title="Who favorited you"
      actions={
        <button type="button" onClick={list.reload} disabled={list.loading}>
          Refresh list
        </button>
      }
    >
      <LoadError error={list.error} retry={list.reload} />
      {list.data && list.data.length === 0 ? <Empty>Nobody yet.</Empty> : null}
      {list.data && list.data.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Since</th>
                <th scope="col">Their rank for you</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((f) => (
                <tr key={f.customer_id}>
                  <td>{f.first_name}</td>
                  <td>{time(f.favorited_at)}</td>
                  <td>{f.rank ?? 'not ranked'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Panel>
  );
}
