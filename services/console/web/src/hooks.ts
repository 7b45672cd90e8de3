import { DibsApiError, DibsConnectionError, DibsNetworkError } from '@dibs/client';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** What a call's refusal means to a person: the API's own words and code. */
export function describeError(err: unknown): string {
  if (err instanceof DibsApiError) {
    const fields = err.errors?.map((e) => `${e.field || e.in}: ${e.message}`).join('; ');
    return `${fields || err.detail} (${err.status} ${err.code})`;
  }
  if (err instanceof DibsNetworkError) return `The API cannot be reached: ${err.message}`;
  if (err instanceof DibsConnectionError) return `No answer over the live connection (${err.reason}): reload to check.`;
  return err instanceof Error ? err.message : String(err);
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Loads `load()` now, whenever `deps` change and on each `reload()`; an answer that arrives after a
 * newer call's is dropped.
 */
export function useResource<T>(load: () => Promise<T>, deps: unknown[] = []): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  // The latest `load` (it sees the latest filters); `deps` say when to load again by themselves.
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    latest.current().then(
      (data) => mine === generation.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

export interface ActionState {
  busy: boolean;
  /** What the last run said: done (`ok`) or refused (`error`). */
  outcome: { ok: boolean; text: string } | undefined;
}

/**
 * Runs a user's action once at a time and keeps what it said, for a status line: `run(fn, done)`
 * shows `done` (or what it returns) on success and the API's refusal on failure.
 */
export function useAction(): [(fn: () => Promise<string | undefined>) => Promise<boolean>, ActionState] {
  const [state, setState] = useState<ActionState>({ busy: false, outcome: undefined });
  const busy = useRef(false);
  const run = useCallback(async (fn: () => Promise<string | undefined>) => {
    if (busy.current) return false;
    busy.current = true;
    setState({ busy: true, outcome: undefined });
    try {
      const text = await fn();
      setState({ busy: false, outcome: text ? { ok: true, text } : undefined });
      return true;
    } catch (err) {
      setState({ busy: false, outcome: { ok: false, text: describeError(err) } });
      return false;
    } finally {
      busy.current = false;
    }
  }, []);
  return [run, state];
}

/** The time now, updated every `everyMs` while mounted (countdowns). */
export function useNow(everyMs = 250): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
