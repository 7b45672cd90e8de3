// Types for supervisor.mjs (plain ESM so `npm start` needs no build step).
import type { EventEmitter } from 'node:events';
import type { Prefixer } from './log-lines.mjs';

export const FATAL_EXIT_CODES: number[];
export interface ServiceSpec {
  name: string;
  command: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}
export interface SupervisorOptions {
  services: ServiceSpec[];
  prefixer: Prefixer;
  write?: (line: string) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  stableMs?: number;
  stopTimeoutMs?: number;
}
export interface Supervisor {
  events: EventEmitter;
  start(): void;
  stop(signal?: NodeJS.Signals): Promise<void>;
  pid(name: string): number | undefined;
}
export function createSupervisor(options: SupervisorOptions): Supervisor;
export function runSupervised(options: SupervisorOptions, hooks?: { onStopping?: (why: string) => void }): Supervisor;
export function watchAncestors(onGone: () => void, intervalMs?: number): () => void;
