import type { Audience, DeliveryPlan } from '../domain/delivery.js';
import type { Connection, OutFrame } from './connection.js';

interface MechanicEntry {
  approved: boolean;
  /** A mechanic has one to a handful of sockets (capped): an array is the smallest holder. */
  conns: Connection[];
}

/** Longest stretch a broadcast runs before yielding to the event loop (the goal is no stall > 50 ms). */
const SLICE_MS = 8;

/**
 * Every socket this replica holds, indexed by mechanic and customer, with the approved status of
 * each connected mechanic (who receives broadcasts). Deliveries to many sockets run in slices
 * that yield to the event loop, so pings, accepts and new handshakes keep flowing meanwhile.
 */
export class ConnectionHub {
  readonly all = new Set<Connection>();
  private readonly mechanics = new Map<string, MechanicEntry>();
  private readonly customers = new Map<string, Set<Connection>>();
  private readonly reserved = new Map<string, number>();
  /** Longest synchronous stretch of a delivery since last read (ms); /metrics reads and resets it. */
  private longestSlice = 0;

  add(conn: Connection, approved: boolean): void {
    this.all.add(conn);
    if (conn.role === 'mechanic') {
      let entry = this.mechanics.get(conn.userId);
      if (!entry) {
        entry = { approved, conns: [] };
        this.mechanics.set(conn.userId, entry);
      }
      entry.approved = approved;
      entry.conns.push(conn);
    } else {
      let set = this.customers.get(conn.userId);
      if (!set) {
        set = new Set();
        this.customers.set(conn.userId, set);
      }
      set.add(conn);
    }
  }

  /** Removes a closed connection; returns how many the same user still has here. */
  remove(conn: Connection): number {
    if (!this.all.delete(conn)) return -1;
    if (conn.role === 'mechanic') {
      const entry = this.mechanics.get(conn.userId);
      if (!entry) return 0;
      const at = entry.conns.indexOf(conn);
      if (at >= 0) entry.conns.splice(at, 1);
      if (entry.conns.length === 0) this.mechanics.delete(conn.userId);
      return entry.conns.length;
    }
    const set = this.customers.get(conn.userId);
    set?.delete(conn);
    if (set && set.size === 0) this.customers.delete(conn.userId);
    return set?.size ?? 0;
  }

  /** Whether a notification for `audience` could reach any socket held here. */
  reaches(audience: Audience): boolean {
    if (audience.kind === 'mechanic') return this.mechanics.has(audience.id);
    if (audience.kind === 'customer') return this.customers.has(audience.id);
    return this.mechanics.size > 0;
  }

  connectionsOf(mechanicId: string): number {
    return this.mechanics.get(mechanicId)?.conns.length ?? 0;
  }

  /** Open connections plus handshakes in flight, for the per-mechanic cap. */
  slotsTaken(mechanicId: string): number {
    return this.connectionsOf(mechanicId) + (this.reserved.get(mechanicId) ?? 0);
  }

  /**
   * Holds a slot for a handshake between its checks and its upgrade, so concurrent handshakes
   * cannot all pass the cap; the returned release is idempotent.
   */
  reserve(mechanicId: string): () => void {
    this.reserved.set(mechanicId, (this.reserved.get(mechanicId) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = (this.reserved.get(mechanicId) ?? 1) - 1;
      if (n > 0) this.reserved.set(mechanicId, n);
      else this.reserved.delete(mechanicId);
    };
  }

  mechanicIds(): string[] {
    return [...this.mechanics.keys()];
  }

  /** Applies a fresh read of who is approved (ids connected meanwhile keep their connect-time status). */
  applyApproved(checked: readonly string[], approved: ReadonlySet<string>): void {
    for (const id of checked) {
      const entry = this.mechanics.get(id);
      if (entry) entry.approved = approved.has(id);
    }
  }

  setApproved(mechanicId: string, approved: boolean): void {
    const entry = this.mechanics.get(mechanicId);
    if (entry) entry.approved = approved;
  }

  counts(): Record<'mechanic' | 'customer', number> {
    let mechanic = 0;
    for (const entry of this.mechanics.values()) mechanic += entry.conns.length;
    return { mechanic, customer: this.all.size - mechanic };
  }

  /** Hands one notification to every local socket it addresses; resolves with the frames written. */
  async deliver(plan: DeliveryPlan, frame: OutFrame): Promise<number> {
    if (plan.action === 'update') {
      let sent = 0;
      for (const conn of this.customers.get(plan.audience.id) ?? []) sent += conn.update(frame);
      return sent;
    }
    const { audience } = plan;
    if (audience.kind === 'customer') return 0;
    if (audience.kind === 'mechanic') {
      const entry = this.mechanics.get(audience.id);
      return entry ? this.deliverTo(plan, frame, audience.id, entry) : 0;
    }
    let sent = 0;
    let sliceStart = performance.now();
    let visited = 0;
    // Map iteration stays valid while entries come and go during the yields.
    for (const [id, entry] of this.mechanics) {
      sent += this.deliverTo(plan, frame, id, entry);
      visited += entry.conns.length;
      if (visited >= 64) {
        visited = 0;
        const slice = performance.now() - sliceStart;
        if (slice > SLICE_MS) {
          this.longestSlice = Math.max(this.longestSlice, slice);
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
    }
    this.longestSlice = Math.max(this.longestSlice, performance.now() - sliceStart);
    return sent;
  }

  /** The longest synchronous stretch of any delivery since the previous call, in ms. */
  takeLongestSlice(): number {
    const longest = this.longestSlice;
    this.longestSlice = 0;
    return longest;
  }

  private deliverTo(plan: DeliveryPlan, frame: OutFrame, id: string, entry: MechanicEntry): number {
    let sent = 0;
    if (plan.action === 'offer') {
      if ((plan.approvedOnly && !entry.approved) || plan.exclude.has(id)) return 0;
      for (const conn of entry.conns) sent += conn.offer(frame, plan.requestId, plan.offer, plan.tier);
    } else if (plan.action === 'withdraw') {
      for (const conn of entry.conns) sent += conn.withdraw(frame, plan.requestId, plan.onlyOffered);
    }
    return sent;
  }
}

/** Lets pending I/O and timers run before continuing. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
