/**
 * A bounded set of the most recent ids (insertion order; the oldest is forgotten first). Enough
 * to drop a republished event: repeats arrive within seconds, long before `capacity` newer ones.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 128) {}

  /** Adds `id`; false when it was already there (a repeat). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}
