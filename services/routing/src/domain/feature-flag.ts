import { createHash } from 'node:crypto';
import type { Role } from '@dibs/contracts';

/** The flag that turns the favorites priority window on (seed: database-driven, off by default). */
export const FAVORITES_PRIORITY_FLAG = 'ENABLE_FAVORITES_PRIORITY';

/** The columns of a `feature_flags` row that decide who it applies to. */
export interface FlagState {
  flag_key: string;
  is_enabled: boolean;
  enabled_for_roles: readonly string[];
  rollout_percentage: number;
}

/**
 * A subject's bucket 0..99 for a flag: a hash of flag key and subject id, so the same customer
 * stays in (or out of) a partial rollout across requests, replicas and restarts, and raising the
 * percentage only ever adds customers.
 */
export function rolloutBucket(flagKey: string, subjectId: string): number {
  const digest = createHash('sha256').update(`${flagKey}:${subjectId}`).digest();
  return digest.readUInt32BE(0) % 100;
}

/** Whether `flag` is on for a user with `role` and id `subjectId`; a missing flag is off. */
export function flagEnabledFor(flag: FlagState | null, role: Role, subjectId: string): boolean {
  if (flag === null || !flag.is_enabled) return false;
  if (!flag.enabled_for_roles.includes(role)) return false;
  if (flag.rollout_percentage >= 100) return true;
  if (flag.rollout_percentage <= 0) return false;
  return rolloutBucket(flag.flag_key, subjectId) < flag.rollout_percentage;
}
