// Where the tests of the remote backends find their servers. The servers are real
// (radosgw, redis-server), started by scripts/servers/*.sh, which print these variables.
// A missing variable fails the test: a remote backend silently left untested looks green.

export const skipRemoteStores = process.env.GITFLEET_SKIP_REMOTE_STORES === '1';

/** The variables' values, or an Error telling how to start the servers. */
export function remoteEnv<K extends string>(names: readonly K[], script: string): Record<K, string> | Error {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    return new Error(
      `${missing.join(', ')} not set: start the servers with \`eval "$(${script})"\` ` +
        '(or set GITFLEET_SKIP_REMOTE_STORES=1 to skip these tests explicitly)',
    );
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]!])) as Record<K, string>;
}

/** A name no other run shares, so tests never see each other's data. */
export function uniqueName(label: string): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
