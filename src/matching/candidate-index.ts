/**
 * An in-memory blocking index (key → record ids), for offline estimation, the benchmark and tests. The
 * production store keeps the same keys in its own table.
 */
export class CandidateIndex {
  private readonly byKey = new Map<string, number[]>();

  add(id: number, keys: readonly string[]): void {
    for (const k of keys) {
      const ids = this.byKey.get(k);
      if (ids) ids.push(id);
      else this.byKey.set(k, [id]);
    }
  }

  /** Distinct ids sharing at least one key, in first-seen order. */
  candidates(keys: readonly string[]): number[] {
    const seen = new Set<number>();
    for (const k of keys) for (const id of this.byKey.get(k) ?? []) seen.add(id);
    return [...seen];
  }

  blocks(): IterableIterator<number[]> {
    return this.byKey.values();
  }
}
