/** Thrown for a ref name that `git check-ref-format` would refuse (or that is outside refs/). */
export class InvalidRefName extends Error {
  constructor(
    readonly refName: string,
    reason: string,
  ) {
    super(`invalid ref name ${JSON.stringify(refName)}: ${reason}`);
    this.name = 'InvalidRefName';
  }
}

/** Why `name` is not a valid ref under refs/ (git's check-ref-format rules), or undefined if it is. */
export function refNameProblem(name: string): string | undefined {
  if (!name.startsWith('refs/')) return 'must start with refs/';
  if (Buffer.from(name, 'utf8').toString('utf8') !== name) return 'is not valid UTF-8';
  // Control characters, DEL, space and the characters git reserves for revision syntax and globs.
  // eslint-disable-next-line no-control-regex -- control characters are what this rule forbids
  const forbidden = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (forbidden) return `contains ${JSON.stringify(forbidden[0])}`;
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component === '') return 'has an empty path component (leading, trailing or double "/")';
    if (component.startsWith('.')) return `has a component starting with ".": ${JSON.stringify(component)}`;
    if (component.endsWith('.lock')) return `has a component ending with ".lock": ${JSON.stringify(component)}`;
  }
  return undefined;
}

/** True when `name` is a ref git would accept under refs/ (`git check-ref-format`). */
export function isValidRefName(name: string): boolean {
  return refNameProblem(name) === undefined;
}

export function assertValidRefName(name: string): void {
  const problem = refNameProblem(name);
  if (problem !== undefined) throw new InvalidRefName(name, problem);
}
