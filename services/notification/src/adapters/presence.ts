import { type PresenceEntry, presenceKey } from '@dibs/contracts';
import { every } from '@dibs/http';
import type { Logger } from '@dibs/logger';
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export interface PresenceOptions {
  nc: NatsConnection;
  bucket: string;
  instanceId: string;
  /** Entries expire this long after their last refresh (the bucket's max age). */
  ttlMs: number;
  replicas: number;
  logger: Logger;
  /** The time an entry's `updated_at` states (ms since the epoch). */
  clock?: () => number;
}

/**
 * Which mechanic is connected where, and who was until lately, in a NATS KV bucket (ARCHITECTURE
 * "presence"): one key per mechanic and instance holding the connection count. While the count is
 * above 0 the entry is rewritten every third of the TTL. When the mechanic's last socket here
 * closes, the entry is written once more with 0 connections and the disconnect time, and is left
 * to the bucket's max age: so "connected at some point in the last TTL" (CONTRACT §6
 * availability) is the entry's existence, and the entries of a crashed instance vanish within
 * one TTL too. Writes are fire-and-forget: presence is advisory, a NATS hiccup must not affect
 * sockets.
 */
/** How long stop() waits for the last presence writes. */
const STOP_WRITE_MS = 2000;

export async function createPresence({
  nc,
  bucket,
  instanceId,
  ttlMs,
  replicas,
  logger,
  clock = Date.now,
}: PresenceOptions) {
  const kvm = new Kvm(jetstream(nc));
  let kv: KV;
  try {
    kv = await kvm.create(bucket, { ttl: ttlMs, history: 1, replicas });
  } catch (err) {
    // Another replica created it with other settings: use it as it is.
    logger.warn({ err, bucket }, 'presence bucket exists with other settings; binding to it');
    kv = await kvm.open(bucket);
  }
  const counts = new Map<string, number>();
  // Mechanics whose last socket here closed, and when, until their last entry is written.
  const goneAt = new Map<string, number>();
  const dirty = new Set<string>();
  const writing = new Set<Promise<void>>();
  let flushScheduled = false;
  let stopped = false;

  function entry(mechanicId: string, connections: number, at: number): string {
    const value: PresenceEntry = {
      mechanic_id: mechanicId,
      instance_id: instanceId,
      connections,
      updated_at: new Date(at).toISOString(),
    };
    return JSON.stringify(value);
  }

  // The entry as it stands now: connected (refreshed), or gone since `goneAt` (written once; a
  // refresh that finds the mechanic gone and that entry already written writes nothing).
  async function write(mechanicId: string): Promise<void> {
    const key = presenceKey(mechanicId, instanceId);
    const n = counts.get(mechanicId) ?? 0;
    const at = n > 0 ? clock() : goneAt.get(mechanicId);
    if (at === undefined) return;
    if (n === 0) goneAt.delete(mechanicId);
    try {
      await kv.put(key, entry(mechanicId, n, at));
    } catch (err) {
      // A lost last write leaves the previous entry to expire by the bucket's max age.
      logger.warn({ err, mechanic_id: mechanicId }, 'presence write failed (refreshed or expired later)');
    }
  }

  // Coalesces a burst of connects/disconnects into one write per mechanic.
  function schedule(mechanicId: string): void {
    if (stopped) return;
    dirty.add(mechanicId);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      const ids = [...dirty];
      dirty.clear();
      void writeAll(ids);
    });
  }

  // Tracked, so that stop() can wait for writes under way before the connection goes.
  function writeAll(ids: string[]): Promise<void> {
    const done = (async () => {
      for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map(write));
    })();
    writing.add(done);
    void done.finally(() => writing.delete(done));
    return done;
  }

  // Rolling refresh: every second, the next slice of entries, so each is rewritten once per third
  // of the TTL and 10k connected mechanics cost a steady trickle, not a burst every 20 s.
  const refreshMs = Math.max(1000, Math.floor(ttlMs / 3));
  let cursor: Iterator<string> | undefined;
  const refresh = every(
    1000,
    () => {
      const slice = Math.ceil(counts.size / (refreshMs / 1000));
      const due = new Set<string>();
      let restarted = false;
      cursor ??= counts.keys();
      while (due.size < slice) {
        const next = cursor.next();
        if (!next.done) {
          due.add(next.value);
          continue;
        }
        // Wrapped around: start over once, so the slice stays full and no entry waits a lap.
        cursor = counts.keys();
        if (restarted) break;
        restarted = true;
      }
      // Not awaited: a slow write must not hold the next slices off.
      void writeAll([...due]);
    },
    { name: 'presence refresh', logger },
  );

  return {
    /** The mechanic now has `connections` sockets on this instance (0 = its last one just closed). */
    set(mechanicId: string, connections: number): void {
      if (connections > 0) {
        counts.set(mechanicId, connections);
        goneAt.delete(mechanicId);
      } else if (counts.delete(mechanicId)) {
        goneAt.set(mechanicId, clock());
      }
      schedule(mechanicId);
    },
    /**
     * Stops refreshing and writes this instance's entries as gone now (0 connections): the
     * mechanics were connected until now, and reconnect to another instance.
     */
    async stop(): Promise<void> {
      stopped = true;
      await refresh.stop();
      const now = clock();
      for (const id of counts.keys()) goneAt.set(id, now);
      const ids = [...new Set([...dirty, ...counts.keys()])];
      counts.clear();
      dirty.clear();
      // Bounded: presence is advisory and its entries expire with the bucket's TTL anyway, so a
      // write stuck on a NATS connection that is reconnecting must not hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn(
            { entries: ids.length },
            'presence entries not written as gone within 2 s; they expire with the TTL',
          );
          resolve();
        }, STOP_WRITE_MS);
      });
      await Promise.race([Promise.all([...writing, writeAll(ids)]), bound]);
      clearTimeout(timer);
    },
  };
}
export type Presence = Awaited<ReturnType<typeof createPresence>>;
