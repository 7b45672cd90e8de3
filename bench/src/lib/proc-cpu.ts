import { readdirSync, readFileSync } from 'node:fs';

// Linux reports process CPU time in clock ticks; 100 per second on every kernel this runs on
// (`getconf CLK_TCK`), and the resolution (10 ms) is far below a step's seconds.
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in ms; NaN once it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Every process whose command name is `comm` (e.g. `postgres`: the server and all its backends). */
export function pidsNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** A named group of processes whose CPU is measured together (e.g. all of PostgreSQL). */
export interface CpuGroup {
  name: string;
  /** Looked up at each reading: PostgreSQL starts and ends backends all the time. */
  pids(): number[];
}

/** CPU ms used by each group between `start()` and the reading, summed over its processes. */
export function cpuMeter(groups: CpuGroup[]) {
  const read = () => {
    const byPid = new Map<string, Map<number, number>>();
    for (const g of groups) {
      const m = new Map<number, number>();
      for (const pid of g.pids()) {
        const ms = cpuMsOf(pid);
        if (!Number.isNaN(ms)) m.set(pid, ms);
      }
      byPid.set(g.name, m);
    }
    return byPid;
  };
  return {
    /** Starts a measurement; the returned function gives ms of CPU per group since then. */
    start(): () => Record<string, number> {
      const before = read();
      return () => {
        const after = read();
        const out: Record<string, number> = {};
        for (const g of groups) {
          const a = after.get(g.name) ?? new Map();
          const b = before.get(g.name) ?? new Map();
          let sum = 0;
          // A process that started during the step counts from 0; one that ended is lost (its
          // time is then missing, never doubled — PostgreSQL's backends live as long as the pools).
          for (const [pid, ms] of a) sum += ms - (b.get(pid) ?? 0);
          out[g.name] = sum;
        }
        return out;
      };
    },
  };
}
