import { type ComponentChildren, cloneElement, type VNode } from 'preact';
import { useId } from 'preact/hooks';
import { clock } from './format.js';
import { type ActionState, describeError, useNow } from './hooks.js';

// The console's few building blocks: a titled section, a labelled field, status lines and a
// countdown. Plain elements, so that they stay accessible to keyboards and screen readers.

export function Panel({
  title,
  id,
  actions,
  children,
}: {
  title: string;
  id?: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  const heading = useId();
  return (
    <section class="panel" id={id} aria-labelledby={heading}>
      <header class="panel__head">
        <h2 id={heading}>{title}</h2>
        {actions ? <div class="panel__actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/**
 * A control with its visible label (`<label for>`), and a hint that describes it
 * (`aria-describedby`): the label alone is the control's name.
 */
export function Field({ label, hint, children }: { label: string; hint?: string; children: VNode }) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div class="field">
      <label class="field__label" for={id}>
        {label}
      </label>
      {cloneElement(children, { id, ...(hint ? { 'aria-describedby': hintId } : {}) })}
      {hint ? (
        <span class="field__hint" id={hintId}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}

/** What the last action said: a polite status when it worked, an alert when it was refused. */
export function Outcome({ state }: { state: ActionState }) {
  if (state.busy) return <p class="outcome outcome--busy">Working…</p>;
  if (!state.outcome) return null;
  return state.outcome.ok ? (
    <p class="outcome outcome--ok" role="status">
      {state.outcome.text}
    </p>
  ) : (
    <p class="outcome outcome--error" role="alert">
      {state.outcome.text}
    </p>
  );
}

/** A load that failed, said once, with a way to try again. */
export function LoadError({ error, retry }: { error: unknown; retry?: () => void }) {
  if (!error) return null;
  return (
    <p class="outcome outcome--error" role="alert">
      {describeError(error)}{' '}
      {retry ? (
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      ) : null}
    </p>
  );
}

/**
 * Time left until `until`, ticking: "4:05 left", and a bar of what is left of `totalMs`. A timer
 * role: screen readers read it when asked, not every second.
 */
export function Countdown({ until, totalMs, label }: { until: string; totalMs?: number | undefined; label: string }) {
  const now = useNow(250);
  const leftMs = Date.parse(until) - now;
  const ended = leftMs <= 0;
  return (
    <span class={`countdown${ended ? ' countdown--ended' : leftMs < 10_000 ? ' countdown--soon' : ''}`}>
      <span role="timer" aria-label={label} aria-live="off" class="countdown__text">
        {ended ? 'window ended' : `${clock(leftMs / 1000)} left`}
      </span>
      {totalMs && totalMs > 0 ? (
        <progress aria-hidden="true" max={totalMs} value={Math.max(0, Math.min(totalMs, leftMs))} />
      ) : null}
    </span>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
