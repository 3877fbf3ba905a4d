import type { Html } from './html.js';

/**
 * Rendered files (highlighted lines, Markdown) by blob id and rendering: a blob never changes,
 * so an entry never goes stale. Least recently used entries go first once over the budget.
 */
export class RenderCache<T extends Html | Html[]> {
  private readonly entries = new Map<string, { value: T; size: number }>();
  private size = 0;

  constructor(private readonly budgetChars: number) {}

  async get(key: string, render: () => T | Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-inserting marks it most recently used (a Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    const value = await render();
    const parts: Html[] = Array.isArray(value) ? value : [value as Html];
    const size = parts.reduce((total, part) => total + part.text.length, 0);
    if (size > this.budgetChars / 4) return value;
    this.entries.set(key, { value, size });
    this.size += size;
    for (const [oldest, entry] of this.entries) {
      if (this.size <= this.budgetChars) break;
      this.entries.delete(oldest);
      this.size -= entry.size;
    }
    return value;
  }
}
