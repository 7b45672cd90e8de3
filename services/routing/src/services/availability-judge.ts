import type { Sql } from '@dibs/db';
import type { MechanicState } from '../domain/request-state.js';
import { isAvailable } from '../domain/rules/availability.js';
import type { PresenceReader } from '../infra/presence-reader.js';
import { loadCandidates } from '../repositories/availability.repository.js';

/** What the routing decision needs to know of the mechanics a request may be offered to. */
export interface Judgement {
  mechanics: Map<string, MechanicState>;
  available: Map<string, boolean>;
}

/**
 * Judges, at `now`, the mechanics of `ids` (one read of their rows, availability and the
 * `skip_offline_favorites` setting; presence from NATS KV only when that setting is on) by the
 * availability rule (domain/rules/availability.ts). A mechanic that no longer exists is absent.
 */
export function createAvailabilityJudge(presence: PresenceReader) {
  return async function judge(sql: Sql, ids: string[], now: number): Promise<Judgement> {
    const candidates = await loadCandidates(sql, ids);
    const present = [...candidates.mechanics.keys()];
    const seen = candidates.skipOffline ? await presence.lastSeenOf(present, now) : new Map<string, number | null>();
    const mechanics = new Map<string, MechanicState>();
    const available = new Map<string, boolean>();
    for (const [id, { state, availability }] of candidates.mechanics) {
      mechanics.set(id, state);
      available.set(
        id,
        isAvailable(availability, { skipOffline: candidates.skipOffline, lastSeenAt: seen.get(id) ?? null }, now),
      );
    }
    return { mechanics, available };
  };
}
export type AvailabilityJudge = ReturnType<typeof createAvailabilityJudge>;
