import type { RepositoryInfo } from '@gitfleet/repository';

/** Percent-encodes each "/"-separated segment, keeping the slashes. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}

export function ownerUrl(owner: string): string {
  return `/${encodeURIComponent(owner)}`;
}

export function repoUrl(info: Pick<RepositoryInfo, 'owner' | 'name'>, ...rest: string[]): string {
  const base = `/${encodeURIComponent(info.owner)}/${encodeURIComponent(info.name)}`;
  const tail = rest
    .map(encodePath)
    .filter((part) => part !== '')
    .join('/');
  return tail === '' ? base : `${base}/${tail}`;
}

/** /{owner}/{repo}/{view}/{ref}/{path}: view is tree, blob, raw, media (an LFS file's object) or commits. */
export function refUrl(
  info: Pick<RepositoryInfo, 'owner' | 'name'>,
  view: 'tree' | 'blob' | 'raw' | 'media' | 'commits',
  ref: string,
  path = '',
): string {
  return repoUrl(info, view, ref, path);
}

/** True for a path on this site ("/x"), not another host ("//x", "/\\x") nor a scheme. */
export function isLocalPath(target: unknown): target is string {
  return (
    typeof target === 'string' && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\') && !/[\r\n]/.test(target)
  );
}
