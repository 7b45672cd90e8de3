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
}

/**
 * Which mechanic is connected where, in a NATS KV bucket (ARCHITECTURE "presence"): one key per
 * mechanic and instance holding the connection count. Writes are fire-and-forget (presence is
 * advisory, a NATS hiccup must not affect sockets) and each entry is rewritten every third of the
 * TTL, so the entries of a crashed instance vanish within one TTL.
 */
export async function createPresence({ nc, bucket, instanceId, ttlMs, replicas, logger }: PresenceOptions) {
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
  const dirty = new Set<string>();
  let flushScheduled = false;
  let stopped = false;

  function entry(mechanicId: string, connections: number): string {
    const value: PresenceEntry = {
      mechanic_id: mechanicId,
      instance_id: instanceId,
      connections,
      updated_at: new Date().toISOString(),
    };
    return JSON.stringify(value);
  }

  async function write(mechanicId: string): Promise<void> {
    const key = presenceKey(mechanicId, instanceId);
    const n = counts.get(mechanicId) ?? 0;
    try {
      if (n > 0) await kv.put(key, entry(mechanicId, n));
      else await kv.delete(key);
    } catch (err) {
      logger.warn({ err, mechanic_id: mechanicId }, 'presence write failed (refreshed later)');
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

  async function writeAll(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map(write));
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
    /** The mechanic now has `connections` sockets on this instance (0 = gone). */
    set(mechanicId: string, connections: number): void {
      if (connections > 0) counts.set(mechanicId, connections);
      else counts.delete(mechanicId);
      schedule(mechanicId);
    },
    /** Stops refreshing and removes this instance's entries. */
    async stop(): Promise<void> {
      stopped = true;
      await refresh.stop();
      const ids = [...counts.keys()];
      counts.clear();
      await writeAll(ids).catch(() => undefined);
    },
  };
}
export type Presence = Awaited<ReturnType<typeof createPresence>>;
