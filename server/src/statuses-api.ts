import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { repositoryObject, repositoryUrls, type CommitStatus } from '@gitfleet/events';
import { isObjectId, type ObjectId } from '@gitfleet/git-format';
import { CommitReader, type Repository } from '@gitfleet/repository';
import { authorizeRepository } from './auth/index.js';
import { HttpError } from './http-errors.js';
import { requestUser } from './request-user.js';
import type { ServerServices } from './services.js';
import { StatusLimitReached, StatusStore, type StatusFields, type StatusLimits } from './statuses.js';

const STATES = ['pending', 'success', 'failure', 'error'] as const satisfies ReadonlyArray<CommitStatus['state']>;
type StatusState = (typeof STATES)[number];

/** GitHub's limits: longer descriptions and contexts are refused, and so is the 1001st status of one sha and context. */
const MAX_DESCRIPTION = 140;
const MAX_CONTEXT = 255;
const MAX_TARGET_URL = 2048;
const MAX_STATUSES_PER_CONTEXT = 1000;
const DOCUMENTATION = 'https://docs.github.com/rest/commits/statuses';

type StatusRecord = CommitStatus;

/** A refused request in GitHub's error shape ({message, errors, documentation_url}). */
class StatusApiError extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly errors?: Array<{ resource: string; field: string; code: string; message?: string }>,
  ) {
    super(status, message);
  }
}

function invalidField(field: string, message: string): StatusApiError {
  return new StatusApiError(422, `Validation Failed: ${field} ${message}`, [{ resource: 'Status', field, code: 'custom', message: `${field} ${message}` }]);
}

/**
 * Commit statuses in GitHub's shape, so that a CI job reports back as it does to GitHub:
 *   POST /repos/{owner}/{repo}/statuses/{sha}
 *   GET  /repos/{owner}/{repo}/commits/{ref}/statuses   (every status, newest first)
 *   GET  /repos/{owner}/{repo}/commits/{ref}/status     (combined: the latest per context)
 * {ref} is a commit id, a branch or tag name, or heads/<branch>, tags/<tag>, refs/….
 * Posting a status needs write permission on the repository, reading them read permission.
 * Statuses record no creator (the `creator` field stays null).
 */
export function statusesApiRouter(services: ServerServices): Router {
  const { webhooks, baseUrl } = services;
  const statuses = new StatusStore(services.kv);
  const limits: StatusLimits = { perContext: MAX_STATUSES_PER_CONTEXT, perCommit: services.config.hooks.statusesPerCommit };
  const open = (req: Request, needed: 'read' | 'write') => authorizeRepository(services, req, param(req, 'owner'), param(req, 'repo'), needed, 'api');
  const router = Router();
  const json = express.json({ limit: '16kb', type: () => true });

  router.post('/repos/:owner/:repo/statuses/:sha', json, async (req, res) => {
    const { repo } = await open(req, 'write');
    const sha = await existingCommit(repo, param(req, 'sha'));
    const fields = statusFields(req.body);
    const record = await appended(() => statuses.append(repo.info.id, sha, fields, limits));
    await webhooks.statusCreated(repo, sha, record, { baseUrl: services.publicBaseUrl(), sender: requestUser(req).name });
    const body = statusJson(record, statusesUrl(repo, baseUrl(req), sha));
    res.status(201).location(body.url).json(body);
  });

  router.get('/repos/:owner/:repo/commits/*ref/statuses', async (req, res) => {
    const { repo } = await open(req, 'read');
    const sha = await resolveCommit(repo, refParam(req));
    const page = paginate(req, res, await statuses.list(repo.info.id, sha), 30);
    const url = statusesUrl(repo, baseUrl(req), sha);
    res.json(page.map((record) => statusJson(record, url)));
  });

  router.get('/repos/:owner/:repo/commits/*ref/status', async (req, res) => {
    const { repo } = await open(req, 'read');
    const sha = await resolveCommit(repo, refParam(req));
    const latest = await statuses.latest(repo.info.id, sha);
    const base = baseUrl(req);
    const api = repositoryUrls(repo, base).api;
    const url = statusesUrl(repo, base, sha);
    const defaultBranch = (await repo.refs.head()).replace(/^refs\/heads\//, '');
    res.json({
      state: combinedState(latest),
      statuses: paginate(req, res, latest, 100).map((record) => {
        const { creator: _creator, ...simple } = statusJson(record, url);
        return simple;
      }),
      sha,
      total_count: latest.length,
      repository: repositoryObject(repo, base, { defaultBranch, pushedAt: null, pushStyle: false }),
      commit_url: `${api}/commits/${sha}`,
      url: `${api}/commits/${sha}/status`,
    });
  });

  router.use(githubErrors);
  return router;
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

/** The wildcard {ref}: express hands over its segments, already percent-decoded. */
function refParam(req: Request): string {
  const segments = (req.params as Record<string, unknown>).ref;
  return Array.isArray(segments) ? segments.join('/') : String(segments);
}

function statusesUrl(repo: Repository, baseUrl: string, sha: ObjectId): string {
  return `${repositoryUrls(repo, baseUrl).api}/statuses/${sha}`;
}

function statusJson(record: StatusRecord, url: string) {
  return {
    url,
    avatar_url: null,
    id: record.id,
    node_id: Buffer.from(`013:StatusContext${record.id}`).toString('base64'),
    state: record.state,
    description: record.description,
    target_url: record.target_url,
    context: record.context,
    created_at: record.created_at,
    updated_at: record.created_at,
    creator: null,
  };
}

/** GitHub's rule: failure if any context failed or errored, pending if any is pending or none reported, else success. */
function combinedState(latest: readonly StatusRecord[]): 'failure' | 'pending' | 'success' {
  if (latest.some((status) => status.state === 'failure' || status.state === 'error')) return 'failure';
  if (latest.length === 0 || latest.some((status) => status.state === 'pending')) return 'pending';
  return 'success';
}

/** The `page` (1-based) of `per_page` items (at most 100), with GitHub's Link header. */
function paginate<T>(req: Request, res: Response, items: readonly T[], defaultPerPage: number): T[] {
  const perPage = Math.min(100, positiveInteger(req.query.per_page, 'per_page') ?? defaultPerPage);
  const page = positiveInteger(req.query.page, 'page') ?? 1;
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const links: string[] = [];
  const link = (n: number, rel: string) => {
    const url = new URL(req.originalUrl, 'http://placeholder');
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('page', String(n));
    links.push(`<${url.pathname}${url.search}>; rel="${rel}"`);
  };
  if (page < lastPage) {
    link(page + 1, 'next');
    link(lastPage, 'last');
  }
  if (page > 1) {
    link(1, 'first');
    link(Math.min(page - 1, lastPage), 'prev');
  }
  if (links.length > 0) res.set('Link', links.join(', '));
  return items.slice((page - 1) * perPage, page * perPage);
}

function positiveInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) < 1) {
    throw new StatusApiError(400, `${name} must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** The body of a status, checked as GitHub checks it (422 naming the field). */
function statusFields(body: unknown): StatusFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new StatusApiError(400, 'Problems parsing JSON: expected an object such as {"state": "success", "context": "ci"}');
  }
  const input = body as Record<string, unknown>;
  if (input.state === undefined) throw invalidField('state', 'is missing (one of pending, success, failure, error)');
  if (typeof input.state !== 'string' || !(STATES as readonly string[]).includes(input.state)) {
    throw invalidField('state', `is not included in the list (pending, success, failure, error): ${JSON.stringify(input.state)}`);
  }
  const description = optionalString(input, 'description', MAX_DESCRIPTION);
  const targetUrl = optionalString(input, 'target_url', MAX_TARGET_URL);
  if (targetUrl !== null && !isHttpUrl(targetUrl)) throw invalidField('target_url', `must be an http or https URL: ${JSON.stringify(targetUrl)}`);
  const context = optionalString(input, 'context', MAX_CONTEXT) ?? 'default';
  if (context.trim() === '') throw invalidField('context', 'must not be blank');
  return { state: input.state as StatusState, description, target_url: targetUrl, context };
}

function optionalString(input: Record<string, unknown>, field: string, maxLength: number): string | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidField(field, `must be a string, not ${JSON.stringify(value)}`);
  if (value.length > maxLength) throw invalidField(field, `is too long (maximum is ${maxLength} characters)`);
  return value;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The commit a status is posted to: a full id of a commit the repository has. */
async function existingCommit(repo: Repository, text: string): Promise<ObjectId> {
  const sha = text.toLowerCase();
  if (isObjectId(sha)) {
    const header = await repo.objects.header(sha);
    if (header?.type === 'commit') return sha;
  }
  throw new StatusApiError(422, `No commit found for SHA: ${text}`);
}

/** A commit id, or a branch or tag (peeled to its commit), as GitHub's {ref} parameters take it. */
async function resolveCommit(repo: Repository, ref: string): Promise<ObjectId> {
  const lower = ref.toLowerCase();
  if (isObjectId(lower) && (await repo.objects.header(lower))?.type === 'commit') return lower;
  const candidates = ref.startsWith('refs/')
    ? [ref]
    : ref.startsWith('heads/') || ref.startsWith('tags/')
      ? [`refs/${ref}`, `refs/heads/${ref}`, `refs/tags/${ref}`]
      : [`refs/heads/${ref}`, `refs/tags/${ref}`];
  const reader = new CommitReader(repo.objects, repo.info.id);
  for (const name of candidates) {
    const oid = await repo.refs.get(name);
    if (oid === undefined) continue;
    const peeled = await reader.peel(oid);
    if (peeled?.type === 'commit') return peeled.oid;
  }
  throw new StatusApiError(422, `No commit found for SHA: ${ref}`);
}

/** Runs the append, turning a full commit or context into GitHub's 422. */
async function appended(append: () => Promise<StatusRecord>): Promise<StatusRecord> {
  try {
    return await append();
  } catch (error) {
    if (!(error instanceof StatusLimitReached)) throw error;
    throw new StatusApiError(422, `Validation Failed: ${error.message}`, [{ resource: 'Status', field: error.field, code: 'custom', message: error.message }]);
  }
}

/**
 * GitHub's error bodies for this API ({message, errors, documentation_url}); the rest of the
 * application's error handling (logging, server faults) stays with the app's handler.
 */
const githubErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const parseFailure = (error as { type?: unknown } | undefined)?.type === 'entity.parse.failed';
  if (!(error instanceof HttpError) && !parseFailure) {
    next(error);
    return;
  }
  const status = parseFailure ? 400 : (error as HttpError).status;
  const message = parseFailure ? 'Problems parsing JSON' : (error as HttpError).message;
  if (error instanceof HttpError) res.set(error.headers);
  res.status(status).json({
    message,
    ...(error instanceof StatusApiError && error.errors ? { errors: error.errors } : {}),
    documentation_url: DOCUMENTATION,
  });
};
