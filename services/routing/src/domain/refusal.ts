import type { CommandErrorCode } from '@dibs/contracts';

/** A command refused, with the code HTTP and WebSocket map to a status. */
export interface Refusal {
  ok: false;
  code: CommandErrorCode;
  detail: string;
}

export const refuse = (code: CommandErrorCode, detail: string): Refusal => ({ ok: false, code, detail });
