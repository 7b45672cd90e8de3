// Types for log-lines.mjs (plain ESM so `npm start` needs no build step).
import type { Readable } from 'node:stream';

export interface Prefixer {
  line(name: string, raw: string): string;
  notice(name: string, text: string, severity?: 'info' | 'warn' | 'error'): string;
}
export function wantsColor(stream: { isTTY?: boolean }): boolean;
export function createPrefixer(options: { names: string[]; color: boolean; pretty: boolean }): Prefixer;
export function prettyLine(raw: string, paint?: (code: string, text: string) => string): string;
export function eachLine(stream: Readable, onLine: (line: string) => void): void;
