/**
 * Contents: GET /repos/{owner}/{repo}/contents/{path}?ref= (and the root, /contents) and
 * GET /repos/{owner}/{repo}/readme[/{dir}], as GitHub answers them: a file as base64 (none over
 * 1 MiB), a directory as an array, a symlink to a file of the repository as that file, another
 * symlink with its target, a submodule with its URL from .gitmodules. `Accept:
 * application/vnd.github.raw` gets a file's bytes; `application/vnd.github.object` gets a
 * directory as an object with `entries`.
 */
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { PathNotFound, findReadme, openFile, readFile, readTree, statPath, type TreeItem } from '@gitfleet/browse';
import { FileMode, fileModeText, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { defineRoute } from './define-route.js';
import {
  EMPTY_CONTENTS,
  encodePath,
  openForRead,
  repositoryParams,
  repositoryUrls,
  revisionOrDefault,
  wildcardParam,
  type RepositoryUrls,
} from './git-json.js';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';

/** Files up to this size come inline (base64); bigger ones with empty content and encoding "none", as GitHub. */
export const MAX_INLINE_BYTES = 1024 * 1024;
/** The largest file served raw, as GitHub's 100 MB. */
export const MAX_RAW_BYTES = 100 * 1024 * 1024;
/** A symlink's target is a path, never longer than this. */
const MAX_LINK_BYTES = 4096;

const SYMLINK_MODE = fileModeText(FileMode.Symlink);

const linksSchema = z.object({ self: z.string(), html: z.string().nullable() });

const entrySchema = z
  .looseObject({
    type: z.enum(['file', 'dir', 'symlink', 'submodule']),
    size: z.number(),
    name: z.string(),
    path: z.string(),
    sha: z.string(),
    url: z.string(),
    git_url: z.string().nullable(),
    html_url: z.string().nullable(),
    download_url: z.string().nullable(),
    _links: linksSchema,
  })
  .meta({ id: 'ContentEntry', description: 'One entry of a directory (a submodule is listed with type "file", as GitHub v3 does)' });

const fileSchema = entrySchema
  .extend({ type: z.literal('file'), encoding: z.enum(['base64', 'none']), content: z.string() })
  .meta({ id: 'ContentFile', description: 'A file; over 1 MiB its content is empty and its encoding "none"' });

const symlinkSchema = entrySchema.extend({ type: z.literal('symlink'), target: z.string() }).meta({ id: 'ContentSymlink' });

const submoduleSchema = entrySchema
  .extend({ type: z.literal('submodule'), submodule_git_url: z.string().nullable() })
  .meta({ id: 'ContentSubmodule' });

const contentsResponse = z.union([fileSchema, z.array(entrySchema), symlinkSchema, submoduleSchema]);

const refQuery = z.object({ ref: z.string().optional().meta({ description: 'Branch, tag or commit (default: the default branch)' }) });

type Entry = z.infer<typeof entrySchema>;

/** What every entry of one answer shares: where to point, and at which revision. */
interface Place {
  repo: Repository;
  urls: RepositoryUrls;
  /** The revision as the client named it (or the default branch), kept in the URLs. */
  ref: string;
  commit: ObjectId;
  /** Entries of a directory listed at most. */
  maxEntries: number;
}

/** Says that a directory has more entries than the answer lists (GitHub's contents API stops at 1,000 silently). */
const TRUNCATED_HEADER = 'X-Gitfleet-Entries-Truncated';

export function contentsRouter(services: ServerServices): Router {
  const router = Router();
  const place = async (req: Request, params: { owner: string; repo: string }, ref: string | undefined): Promise<Place> => {
    const repo = await openForRead(services, req, params);
    const revision = await revisionOrDefault(repo, ref, EMPTY_CONTENTS);
    return {
      repo,
      urls: repositoryUrls(services, req, repo),
      ref: revision.name,
      commit: revision.commit,
      maxEntries: services.config.browse.treeMaxEntries,
    };
  };

  for (const path of ['/repos/:owner/:repo/contents', '/repos/:owner/:repo/contents/*path']) {
    defineRoute(router, {
      method: 'get',
      path,
      tag: 'git',
      summary: 'Get a file or a directory at a revision',
      params: repositoryParams,
      query: refQuery,
      response: { status: 200, schema: contentsResponse },
      async handler({ req, res, params, query }) {
        const at = await place(req, params, query.ref);
        return answerContents(req, res, at, trimSlashes(wildcardParam(req, 'path')));
      },
    });
  }

  for (const path of ['/repos/:owner/:repo/readme', '/repos/:owner/:repo/readme/*dir']) {
    defineRoute(router, {
      method: 'get',
      path,
      tag: 'git',
      summary: 'Get the README of the root (or of a directory) at a revision',
      params: repositoryParams,
      query: refQuery,
      response: { status: 200, schema: fileSchema },
      async handler({ req, res, params, query }) {
        const at = await place(req, params, query.ref);
        const directory = trimSlashes(wildcardParam(req, 'dir'));
        const readme = await findReadme(at.repo, at.commit, directory, { maxEntries: at.maxEntries });
        if (!readme) throw new HttpError(404, `no README in ${directory === '' ? 'the root' : directory} at ${at.ref}`);
        return answerFile(req, res, at, readme);
      },
    });
  }

  return router;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

async function answerContents(req: Request, res: Response, at: Place, path: string): Promise<unknown> {
  const item = path === '' ? undefined : await statPath(at.repo, at.commit, path);
  if (item === undefined || item.type === 'tree') {
    const listing = await readTree(at.repo, at.commit, path, { maxEntries: at.maxEntries });
    const entries = listing.entries.map((child) => entryJson(at, child, listedType(child)));
    if (listing.truncated) res.set(TRUNCATED_HEADER, 'true');
    if (!wantsObject(req)) return entries;
    return { ...(item ? entryJson(at, item, 'dir') : rootJson(at)), entries, ...(listing.truncated ? { truncated: true } : {}) };
  }
  if (item.type === 'commit') return { ...entryJson(at, item, 'submodule'), submodule_git_url: await submoduleUrl(at, item.path) };
  if (item.mode === SYMLINK_MODE) {
    const target = (await readFile(at.repo, at.commit, item.path, { maxBytes: MAX_LINK_BYTES })).content.toString('utf8');
    const file = await symlinkedFile(at, item.path, target);
    if (file) return answerFile(req, res, at, file);
    if (wantsRaw(req)) return sendRaw(res, Buffer.from(target, 'utf8'));
    return { ...entryJson(at, item, 'symlink'), target };
  }
  return answerFile(req, res, at, item);
}

async function answerFile(req: Request, res: Response, at: Place, item: TreeItem): Promise<unknown> {
  const size = item.size ?? 0;
  if (wantsRaw(req)) {
    if (size > MAX_RAW_BYTES) throw new HttpError(403, `${item.path} is ${size} bytes; the API serves files up to ${MAX_RAW_BYTES} bytes`);
    // Streamed from the pack: a large file is never held whole.
    const file = await openFile(at.repo, at.commit, item.path);
    res.status(200).type('application/octet-stream').set('X-Content-Type-Options', 'nosniff').set('Content-Length', String(file.size));
    await pipeline(file.stream, res);
    return undefined;
  }
  const inline = size <= MAX_INLINE_BYTES;
  const content = inline ? (await readFile(at.repo, at.commit, item.path, { maxBytes: MAX_INLINE_BYTES })).content.toString('base64') : '';
  return { ...entryJson(at, item, 'file'), encoding: inline ? 'base64' : 'none', content };
}

function sendRaw(res: Response, bytes: Buffer): undefined {
  res.status(200).type('application/octet-stream').set('X-Content-Type-Options', 'nosniff').send(bytes);
  return undefined;
}

/** GitHub's media types: "application/vnd.github.raw", "…github.v3.raw", "…github.raw+json". */
function wantsRaw(req: Request): boolean {
  return /application\/vnd\.github(\.v3)?\.raw/i.test(req.get('accept') ?? '');
}

function wantsObject(req: Request): boolean {
  return /application\/vnd\.github(\.v3)?\.object/i.test(req.get('accept') ?? '');
}

/** GitHub's v3 API lists a submodule as a "file" (its documentation keeps it for compatibility). */
function listedType(item: TreeItem): Entry['type'] {
  if (item.type === 'tree') return 'dir';
  if (item.type === 'blob' && item.mode === SYMLINK_MODE) return 'symlink';
  return 'file';
}

function entryJson(at: Place, item: TreeItem, type: Entry['type']): Entry {
  const path = encodePath(item.path);
  const ref = encodePath(at.ref);
  const url = `${at.urls.api}/contents/${path}?ref=${encodeURIComponent(at.ref)}`;
  const isBlob = item.type === 'blob';
  const htmlUrl = item.type === 'commit' ? null : `${at.urls.html}/${isBlob ? 'blob' : 'tree'}/${ref}/${path}`;
  return {
    type,
    size: isBlob ? (item.size ?? 0) : 0,
    name: item.name,
    path: item.path,
    sha: item.oid,
    url,
    git_url: null,
    html_url: htmlUrl,
    download_url: isBlob ? `${at.urls.html}/raw/${ref}/${path}` : null,
    _links: { self: url, html: htmlUrl },
  };
}

/** The root as an entry (only the object media type shows it). */
function rootJson(at: Place): Entry {
  const url = `${at.urls.api}/contents?ref=${encodeURIComponent(at.ref)}`;
  const htmlUrl = `${at.urls.html}/tree/${encodePath(at.ref)}`;
  return {
    type: 'dir',
    size: 0,
    name: '',
    path: '',
    sha: at.commit,
    url,
    git_url: null,
    html_url: htmlUrl,
    download_url: null,
    _links: { self: url, html: htmlUrl },
  };
}

/**
 * The regular file a symlink at `linkPath` points to, when its target (relative to the link's
 * directory) stays inside the repository and names one; undefined otherwise.
 */
async function symlinkedFile(at: Place, linkPath: string, target: string): Promise<TreeItem | undefined> {
  if (target.startsWith('/')) return undefined;
  const resolved = posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '.' || resolved === '..' || resolved.startsWith('../')) return undefined;
  try {
    const item = await statPath(at.repo, at.commit, resolved);
    return item.type === 'blob' && item.mode !== SYMLINK_MODE ? item : undefined;
  } catch (error) {
    if (error instanceof PathNotFound) return undefined;
    throw error;
  }
}

/** The URL .gitmodules gives the submodule at `path`, or null when it names none. */
async function submoduleUrl(at: Place, path: string): Promise<string | null> {
  let text: string;
  try {
    text = (await readFile(at.repo, at.commit, '.gitmodules', { maxBytes: MAX_INLINE_BYTES })).content.toString('utf8');
  } catch (error) {
    if (error instanceof PathNotFound) return null;
    throw error;
  }
  return parseGitmodules(text).find((module) => module.path === path)?.url ?? null;
}

/** The `path` and `url` of each `[submodule "…"]` section of a .gitmodules file (git-config syntax, the subset it uses). */
export function parseGitmodules(text: string): { path?: string; url?: string }[] {
  const modules: { path?: string; url?: string }[] = [];
  let current: { path?: string; url?: string } | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/(^|\s)[#;].*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('[')) {
      current = /^\[\s*submodule\s+"/i.test(line) ? {} : undefined;
      if (current) modules.push(current);
      continue;
    }
    const setting = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
    if (!current || !setting) continue;
    const key = setting[1].toLowerCase();
    const value = unquote(setting[2]);
    if (key === 'path') current.path = value;
    else if (key === 'url') current.url = value;
  }
  return modules;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
