import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { eachLine } from './log-lines.mjs';

/** Exit codes after which a restart cannot help (sysexits' EX_CONFIG): the supervisor gives up. */
export const FATAL_EXIT_CODES = [78];

/**
 * Runs `services` as child processes, restarts one that dies (exponential backoff, reset once it
 * stayed up for `stableMs`), and stops them all on `stop()`.
 *
 * Children are spawned in their own process group (`detached`) so that a terminal's Ctrl-C reaches
 * only the supervisor, which then sends exactly one SIGTERM to each: a second signal would make a
 * service's close-with-grace exit at once instead of draining.
 *
 * Events: `spawn` (name, pid), `exit` (name, code, signal), `restart` (name, delayMs, attempt),
 * `fatal` (name, code), `stopped`.
 */
export function createSupervisor({
  services,
  prefixer,
  write = (line) => process.stdout.write(`${line}\n`),
  initialBackoffMs = 500,
  maxBackoffMs = 10_000,
  stableMs = 10_000,
  stopTimeoutMs = 20_000,
}) {
  const events = new EventEmitter();
  const state = new Map(services.map((s) => [s.name, { spec: s, child: null, attempts: 0, timer: null, since: 0 }]));
  let stopping = null;

  function launch(name) {
    const st = state.get(name);
    const { command, args = [], env = process.env, cwd } = st.spec;
    const child = spawn(command, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    st.child = child;
    st.since = Date.now();
    eachLine(child.stdout, (line) => write(prefixer.line(name, line)));
    eachLine(child.stderr, (line) => write(prefixer.line(name, line)));
    child.once('error', (err) => write(prefixer.notice(name, `could not start: ${err.message}`, 'error')));
    child.once('close', (code, signal) => onExit(name, child, code, signal));
    if (child.pid) events.emit('spawn', name, child.pid);
  }

  function onExit(name, child, code, signal) {
    const st = state.get(name);
    if (st.child !== child) return;
    st.child = null;
    events.emit('exit', name, code, signal);
    if (stopping) return;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (code !== null && FATAL_EXIT_CODES.includes(code)) {
      write(prefixer.notice(name, `${how}: its configuration is invalid (see above); stopping everything`, 'error'));
      events.emit('fatal', name, code);
      return;
    }
    if (Date.now() - st.since >= stableMs) st.attempts = 0;
    const delayMs = Math.min(initialBackoffMs * 2 ** st.attempts, maxBackoffMs);
    st.attempts += 1;
    write(prefixer.notice(name, `${how}; restarting in ${formatMs(delayMs)} (restart #${st.attempts})`));
    events.emit('restart', name, delayMs, st.attempts);
    st.timer = setTimeout(() => {
      st.timer = null;
      if (!stopping) launch(name);
    }, delayMs);
  }

  async function stopAll(signal = 'SIGTERM') {
    const waits = [];
    for (const [name, st] of state) {
      if (st.timer) clearTimeout(st.timer);
      st.timer = null;
      const child = st.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(
        new Promise((resolve) => {
          const force = setTimeout(() => {
            write(prefixer.notice(name, `did not stop within ${formatMs(stopTimeoutMs)}; killing it`, 'error'));
            child.kill('SIGKILL');
          }, stopTimeoutMs);
          child.once('close', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill(signal);
        }),
      );
    }
    await Promise.all(waits);
    events.emit('stopped');
  }

  // Last resort if the supervisor itself dies: detached children would otherwise outlive it.
  const killOnExit = () => {
    for (const st of state.values()) if (st.child?.pid) st.child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  return {
    events,
    start() {
      for (const s of services) launch(s.name);
    },
    /** Sends `signal` to every child, waits for all to exit (SIGKILL after the timeout). */
    stop(signal) {
      stopping ??= stopAll(signal).finally(() => process.removeListener('exit', killOnExit));
      return stopping;
    },
    /** pid of `name`'s current process, or undefined while it is down. */
    pid(name) {
      return state.get(name)?.child?.pid;
    },
  };
}

/**
 * Runs a supervisor as the whole process: SIGINT/SIGTERM stop every child cleanly and exit 0;
 * a child with a fatal exit code stops the rest and exits with that code.
 */
export function runSupervised(options, { onStopping } = {}) {
  const supervisor = createSupervisor(options);
  const write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  let shuttingDown = false;
  const shutdown = async (exitCode, why) => {
    if (shuttingDown) return;
    shuttingDown = true;
    onStopping?.(why);
    await supervisor.stop('SIGTERM');
    write(options.prefixer.notice('dibs', 'all services stopped', 'info'));
    process.exit(exitCode);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    // `on`, not `once`: a repeated Ctrl-C must not fall back to Node's default (kill without draining).
    process.on(sig, () => void shutdown(0, sig));
  }
  supervisor.events.on('fatal', (_name, code) => void shutdown(code, 'fatal'));
  watchAncestors(() => void shutdown(0, 'parent process gone'));
  supervisor.start();
  return supervisor;
}

/**
 * Calls `onGone` once any process above this one exits. `npm start` runs us as
 * npm → sh -c → sh (the `node` shim) → node: a SIGTERM sent to npm alone never reaches us, and
 * neither shell forwards it, so without this the services would outlive an `npm start` that was
 * stopped that way.
 */
export function watchAncestors(onGone, intervalMs = 500) {
  const initialParent = process.ppid;
  const ancestors = ancestorPids();
  const timer = setInterval(() => {
    const gone = process.ppid !== initialParent || ancestors.some((pid) => !isAlive(pid));
    if (gone) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** pids from our parent up to (not including) init, read from /proc (empty where there is none). */
function ancestorPids() {
  const pids = [];
  let pid = process.ppid;
  while (pid > 1 && pids.length < 64) {
    pids.push(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid …"; comm may contain spaces or parentheses.
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function formatMs(ms) {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
}
