/**
 * git's progress meter text for "Resolving deltas", as index-pack prints it on the server
 * ("Resolving deltas:  42% (21/50)\r", then "…, done.\n"). A line is produced only when the
 * percentage changes, so a large pack yields about a hundred lines, not one per object.
 */
export class DeltaProgress {
  private lastPercent = -1;
  private total = 0;

  constructor(private readonly write: (text: string) => void) {}

  update(done: number, total: number): void {
    this.total = total;
    if (total === 0) return;
    const percent = Math.floor((done * 100) / total);
    if (percent === this.lastPercent || done >= total) return;
    this.lastPercent = percent;
    this.write(`Resolving deltas: ${String(percent).padStart(3)}% (${done}/${total})\r`);
  }

  /** The closing line; a thin pack says how many local objects completed it, as git does. */
  finish(appendedBases: number): void {
    if (this.total === 0) return;
    const ending = appendedBases > 0 ? `completed with ${appendedBases} local object${appendedBases === 1 ? '' : 's'}` : 'done';
    this.write(`Resolving deltas: 100% (${this.total}/${this.total}), ${ending}.\n`);
  }
}
