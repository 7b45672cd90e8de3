import { type ConnectionState, DibsConnection, type SessionRequest } from '@dibs/client';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { useConsole } from '../../context.js';
import { describeError } from '../../hooks.js';

const STATUS_RANK = { pending: 0, accepted: 1, cancelled: 1 } as const;

/** How far a request has come; frames and reloads may cross, and the further one wins. */
function progress(r: SessionRequest): number[] {
  return [
    STATUS_RANK[r.status],
    r.offers.filter((o) => o.outcome !== null).length,
    r.offers.length,
    r.broadcast_at ? 1 : 0,
    r.priority_notified_at ? 1 : 0,
  ];
}

function further(a: SessionRequest, b: SessionRequest): boolean {
  const [pa, pb] = [progress(a), progress(b)];
  for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) > (pb[i] ?? 0);
  return false;
}

export interface LiveRequests {
  requests: SessionRequest[];
  state: ConnectionState;
  error: string | undefined;
  /** Puts a request the page got from the API (a booking, a cancel) into the list. */
  upsert(request: SessionRequest): void;
  reload(): void;
}

/** While a request is pending, the page is read again this often: a frame lost on a dying socket is not waited for. */
const PENDING_REFRESH_MS = 10_000;

/**
 * The customer's requests: the newest page from the API, then every `request_update` the gateway
 * sends (each tier, broadcast, accepted, cancelled). Customers get no snapshot, so the page is
 * read again on each connect (what changed before the socket was up), and now and then while a
 * request is pending.
 */
export function useLiveRequests(): LiveRequests {
  const { api, runtime, token } = useConsole();
  const [byId, setById] = useState<ReadonlyMap<string, SessionRequest>>(new Map());
  const [state, setState] = useState<ConnectionState>('connecting');
  const [error, setError] = useState<string | undefined>(undefined);

  const upsert = useCallback((incoming: SessionRequest) => {
    setById((current) => {
      const known = current.get(incoming.id);
      if (known && further(known, incoming)) return current;
      return new Map(current).set(incoming.id, incoming);
    });
  }, []);
  const reload = useCallback(() => {
    api.sessionRequests.list({ limit: 20 }).then(
      (page) => {
        setError(undefined);
        for (const r of page.items) upsert(r);
      },
      (err: unknown) => setError(describeError(err)),
    );
  }, [api, upsert]);

  useEffect(() => {
    const conn = new DibsConnection({ url: runtime.wsUrl, token });
    conn.on('requestUpdate', upsert);
    conn.on('state', (next) => {
      setState(next);
      if (next === 'connected') reload();
    });
    conn.on('error', (err) => setError(err.message));
    void conn.connect();
    reload();
    return () => conn.close();
  }, [runtime.wsUrl, token, upsert, reload]);

  const requests = [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const pending = requests.some((r) => r.status === 'pending');
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(reload, PENDING_REFRESH_MS);
    return () => clearInterval(timer);
  }, [pending, reload]);
  return { requests, state, error, upsert, reload };
}
