/** A `.rev`, `.bitmap`, commit-graph or EWAH bitmap that does not follow git's format; the message says where. */
export class CorruptSidecarError extends Error {
  constructor(
    readonly file: 'rev' | 'bitmap' | 'commit-graph' | 'ewah',
    detail: string,
  ) {
    super(`corrupt ${file}: ${detail}`);
    this.name = 'CorruptSidecarError';
  }
}
