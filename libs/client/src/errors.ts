import { COMMAND_ERROR_STATUS, type CommandErrorCode, type FieldError, type Problem } from '@dibs/contracts';

export type { FieldError, Problem } from '@dibs/contracts';

/** Base class of every error the SDK throws, so an app can catch them all at once. */
export class DibsError extends Error {
  override name = 'DibsError';
}

/**
 * The API refused a call: a problem+json answer over HTTP, or a `result` frame with `ok: false`
 * over the WebSocket (then `status` is the HTTP status of its code, COMMAND_ERROR_STATUS).
 */
export class DibsApiError extends DibsError implements Problem {
  override name = 'DibsApiError';
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors: FieldError[] | undefined;
  /** What `Retry-After` asked for, in ms, when the answer carried one. */
  readonly retryAfterMs: number | undefined;

  constructor(problem: Problem, retryAfterMs?: number) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.code = problem.code;
    this.errors = problem.errors;
    this.retryAfterMs = retryAfterMs;
  }

  /** The refusal of a WebSocket command, with the status HTTP gives the same code. */
  static fromCommand(code: CommandErrorCode, detail?: string): DibsApiError {
    const status = COMMAND_ERROR_STATUS[code] ?? 500;
    return new DibsApiError({ type: 'about:blank', title: code, status, detail: detail ?? code, code });
  }
}

/** The HTTP API could not be reached (or did not answer in time), after every retry. */
export class DibsNetworkError extends DibsError {
  override name = 'DibsNetworkError';
}

/** A success answer that does not match its schema in `@dibs/contracts`: client and server disagree. */
export class DibsResponseError extends DibsError {
  override name = 'DibsResponseError';
}

/**
 * A WebSocket command got no `result`: `timeout` (none in time) or `closed` (the socket closed
 * first). Either way the command may or may not have taken effect: read the request over HTTP.
 */
export class DibsConnectionError extends DibsError {
  override name = 'DibsConnectionError';
  constructor(
    readonly reason: 'timeout' | 'closed',
    message: string,
  ) {
    super(message);
  }
}
