import { natsNames, PresenceEntrySchema, presenceKeysOf } from '@dibs/contracts';
import type { Logger } from '@dibs/logger';
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * When each mechanic was last connected to a gateway, read from the gateways' presence bucket
 * (notification src/adapters/presence.ts): an entry with connections is "now"; one left by the
 * last socket closing says when it closed; none (it expired with the bucket's TTL) is "not
 * recently". Read only when `skip_offline_favorites` is on.
 */
export function createPresenceReader(nc: NatsConnection, prefix: string, logger: Logger) {
  const bucket = natsNames(prefix).kv.presence;
  let kv: Promise<KV> | undefined;

  async function lastSeen(mechanicId: string, now: number): Promise<number | null> {
    kv ??= new Kvm(jetstream(nc)).open(bucket);
    let store: KV;
    try {
      store = await kv;
    } catch (err) {
      // No gateway has created the bucket yet: nobody is connected. Look again next time.
      kv = undefined;
      logger.debug({ err: { message: (err as Error).message }, bucket }, 'presence bucket not readable');
      return null;
    }
    let latest: number | null = null;
    const keys = await store.keys(presenceKeysOf(mechanicId));
    for await (const key of keys) {
      const entry = await store.get(key);
      if (entry?.operation !== 'PUT') continue;
      const parsed = PresenceEntrySchema.safeParse(entry.json());
      if (!parsed.success) continue;
      const at = parsed.data.connections > 0 ? now : Date.parse(parsed.data.updated_at);
      latest = latest === null ? at : Math.max(latest, at);
    }
    return latest;
  }

  return {
    /** Last-seen instants (epoch ms, null: not recently) of `ids`, read in parallel. */
    async lastSeenOf(ids: string[], now: number): Promise<Map<string, number | null>> {
      const seen = await Promise.all(ids.map((id) => lastSeen(id, now)));
      return new Map(ids.map((id, i) => [id, seen[i] ?? null]));
    },
  };
}
export type PresenceReader = ReturnType<typeof createPresenceReader>;
