/**
 * The Git LFS File Locking API (git-lfs docs/api/locking.md) under `/:owner/:repo/info/lfs/locks`,
 * `:repo` with its ".git": listing needs read access, locking, verifying and unlocking write
 * access (git-lfs asks for write before a push). Authentication, the 401 that makes git-lfs ask
 * git's credential helpers, and the 404 that hides a private repository are git's over HTTP.
 * A lock holds its path on every branch, so the `refspec` and `ref` a client may send are accepted
 * and do not narrow anything.
 */
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Permission } from '@gitfleet/accounts';
import { InvalidLockPath, LockExists, LockStore, TooManyLocks, normalizeLockPath, type LfsLock } from '@gitfleet/repository';
import { authorizeRepository } from '../../auth/index.js';
import { HttpError } from '../../http-errors.js';
import { httpStatusOf, refusalMessage, retryAfterHeader } from '../../operations/errors.js';
import { requestUser } from '../../request-user.js';
import type { ServerServices } from '../../services.js';

const LFS_JSON = 'application/vnd.git-lfs+json';
/** git-lfs asks for 100 at a time; GitHub and Gitea cap a page too. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
/** A lock request is a path and a ref name: a few kilobytes at most. */
const MAX_BODY = '64kb';

interface LockJson {
  id: string;
  path: string;
  locked_at: string;
  owner: { name: string };
}

export function lfsLocksRouter(services: ServerServices): Router {
  const locks = new LockStore(services.kv, services.blobs, services.config.lfsLocks);
  const router = Router();
  const base = '/:owner/:repo/info/lfs/locks';
  router.use(base, express.json({ type: [LFS_JSON, 'application/json'], limit: MAX_BODY }));

  const open = (req: Request, needed: Permission) =>
    authorizeRepository(services, req, String(req.params.owner), String(req.params.repo), needed, 'git');

  router.get(base, async (req, res) => {
    const { repo } = await open(req, 'read');
    const { id } = req.query;
    const path = nonEmpty(req.query.path);
    const wanted = path === undefined ? undefined : normalizeLockPath(path, locks.limits.maxPathBytes);
    const limit = pageLimit(req.query.limit);
    if (typeof id === 'string' && id !== '') {
      const lock = await locks.get(repo.info.id, id);
      return send(res, 200, { locks: lock && (wanted === undefined || wanted === lock.path) ? [lockJson(lock)] : [] });
    }
    if (wanted !== undefined) {
      const lock = await locks.atPath(repo.info.id, wanted);
      return send(res, 200, { locks: lock ? [lockJson(lock)] : [] });
    }
    const page = await locks.page(repo.info.id, { cursor: nonEmpty(req.query.cursor), limit });
    send(res, 200, { locks: page.locks.map(lockJson), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) });
  });

  router.post(base, async (req, res) => {
    const { repo } = await open(req, 'write');
    const lock = await locks.create(repo.info.id, body(req).path, requestUser(req).name);
    send(res, 201, { lock: lockJson(lock) });
  });

  router.post(`${base}/verify`, async (req, res) => {
    const { repo } = await open(req, 'write');
    const { cursor, limit } = body(req);
    const page = await locks.page(repo.info.id, { cursor: nonEmpty(cursor), limit: pageLimit(limit) });
    const me = requestUser(req).name.toLowerCase();
    const ours = page.locks.filter((lock) => lock.owner.toLowerCase() === me);
    const theirs = page.locks.filter((lock) => lock.owner.toLowerCase() !== me);
    send(res, 200, {
      ours: ours.map(lockJson),
      theirs: theirs.map(lockJson),
      ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
    });
  });

  router.post(`${base}/:id/unlock`, async (req, res) => {
    const { repo, access } = await open(req, 'write');
    const id = String(req.params.id);
    const lock = await locks.get(repo.info.id, id);
    if (!lock) throw new HttpError(404, `no lock ${id} in ${repo.info.owner}/${repo.info.name}`);
    const me = requestUser(req).name;
    if (lock.owner.toLowerCase() !== me.toLowerCase()) {
      if (body(req).force !== true) {
        throw new HttpError(
          403,
          `${lock.path} is locked by ${lock.owner}, not ${me}; a repository administrator may unlock it with --force`,
        );
      }
      if (access !== 'admin') {
        throw new HttpError(403, `only repository administrators may force-unlock someone else's lock: ${me} has ${access} access`);
      }
    }
    const removed = await locks.delete(repo.info.id, id);
    if (!removed) throw new HttpError(404, `lock ${id} was unlocked meanwhile`);
    send(res, 200, { lock: lockJson(removed) });
  });

  router.use(base, lfsErrors);
  return router;
}

function send(res: Response, status: number, payload: unknown): void {
  res.status(status).type(LFS_JSON).send(JSON.stringify(payload));
}

function lockJson(lock: LfsLock): LockJson {
  return { id: lock.id, path: lock.path, locked_at: lock.lockedAt, owner: { name: lock.owner } };
}

/** The JSON object a request sent, or an empty one (git-lfs sends one with every POST; others may send none). */
function body(req: Request): Record<string, unknown> {
  const parsed: unknown = req.body;
  if (parsed === undefined) return {};
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new HttpError(400, 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function pageLimit(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_PAGE;
  const limit = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new HttpError(400, `limit must be a positive integer, not ${JSON.stringify(value)}`);
  return Math.min(limit, MAX_PAGE);
}

/** A query or body field that is a non-empty string; anything else counts as absent. */
function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Refusals in the LFS API's shape, `{message}` (with the holder's lock on a 409), which git-lfs
 * prints; faults go on to the application's handler.
 */
const lfsErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (error instanceof LockExists) return send(res, 409, { lock: lockJson(error.lock), message: error.message });
  const status = error instanceof InvalidLockPath || error instanceof TooManyLocks ? 422 : httpStatusOf(error);
  if (status === undefined || res.headersSent) return next(error);
  if (error instanceof HttpError) res.set(error.headers);
  res.set(retryAfterHeader(error));
  send(res, status, { message: refusalMessage(error) });
};
