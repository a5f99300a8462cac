/**
 * Answers that depend only on the store's contents, kept while its revision stays the same
 * (and for at most `maxAgeMs`, since a running task's cost grows with the clock). 200 pollers
 * asking the same question between two changes cost one read and one rendering, not 200, so
 * dispatch, the sweep and /healthz keep their share of the event loop. Concurrent asks for one
 * key share one computation.
 */
export class RevisionCache<V> {
  private readonly entries = new Map<string, { rev: number; at: number; value: Promise<V> }>();

  constructor(
    private readonly currentRev: () => Promise<number>,
    private readonly maxAgeMs = 1000,
    private readonly maxEntries = 256,
  ) {}

  async get(key: string, make: () => Promise<V>): Promise<V> {
    const rev = await this.currentRev();
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry && entry.rev === rev && now - entry.at < this.maxAgeMs) return entry.value;
    const value = make();
    this.entries.delete(key);
    this.entries.set(key, { rev, at: now, value });
    // Oldest first: a Map iterates in insertion order.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    // A failure is not kept: the next ask tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}
