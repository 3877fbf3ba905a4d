/**
 * Commit statuses in GitHub's shape, so that a CI job reports back as it does to GitHub:
 *   POST /repos/{owner}/{repo}/statuses/{sha}
 *   GET  /repos/{owner}/{repo}/commits/{ref}/statuses   (every status, newest first)
 *   GET  /repos/{owner}/{repo}/commits/{ref}/status     (combined: the latest per context)
 * {ref} is a commit id, a branch or tag name, or heads/<branch>, tags/<tag>, refs/….
 * Posting a status needs write permission on the repository, reading them read permission.
 * Statuses record no creator (the `creator` field stays null). Refusals are in GitHub's shape
 * for this API: `{"message", "errors", "documentation_url"}`.
 */
import { Router, type ErrorRequestHandler, type Request } from 'express';
import { z } from 'zod';
import {
  STATUSES_PER_CONTEXT,
  StatusLimitReached,
  StatusStore,
  combinedState,
  isHttpUrl,
  repositoryObject,
  repositoryUrls,
  type CommitStatus,
  type StatusLimits,
} from '@gitfleet/events';
import { isObjectId, type ObjectId } from '@gitfleet/git-format';
import type { Repository } from '@gitfleet/repository';
import { authorizeRepository } from '../auth/index.js';
import { HttpError } from '../http-errors.js';
import { requestUser } from '../request-user.js';
import type { ServerServices } from '../services.js';
import { defineRoute, type FieldError } from './define-route.js';
import { wildcardParam } from './git-json.js';
import { MAX_PER_PAGE, pageRequest, paginateList, paginationQuery } from './pagination.js';

const STATES = ['pending', 'success', 'failure', 'error'] as const satisfies ReadonlyArray<CommitStatus['state']>;

/** GitHub's limits: longer descriptions and contexts are refused. */
const MAX_DESCRIPTION = 140;
const MAX_CONTEXT = 255;
const MAX_TARGET_URL = 2048;
/** A status is a few short fields: its body is held to less than the API's other bodies. */
const STATUS_BODY_LIMIT = '16kb';
const DOCUMENTATION = 'https://docs.github.com/rest/commits/statuses';

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
  return new StatusApiError(422, `Validation Failed: ${field} ${message}`, [
    { resource: 'Status', field, code: 'custom', message: `${field} ${message}` },
  ]);
}

/** A lone surrogate (JSON's "\ud800" parses to one) is no text: it cannot be stored in a key or encoded in a URL. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** An optional text field: absent or null is null; its messages follow the field's name. */
const optionalText = (maxLength: number) =>
  z
    .string({ error: (issue) => `must be a string, not ${JSON.stringify(issue.input)}` })
    .max(maxLength, { error: `is too long (maximum is ${maxLength} characters)` })
    .refine((text) => !LONE_SURROGATE.test(text), { error: 'must be well-formed Unicode (it holds a lone surrogate)' })
    .nullish()
    .transform((value) => value ?? null);

/** The body of a status, checked as GitHub checks it, in the order GitHub names the first bad field. */
const statusBody = z.object({
  state: z.enum(STATES, {
    error: (issue) =>
      issue.input === undefined
        ? 'is missing (one of pending, success, failure, error)'
        : `is not included in the list (pending, success, failure, error): ${JSON.stringify(issue.input)}`,
  }),
  description: optionalText(MAX_DESCRIPTION),
  target_url: optionalText(MAX_TARGET_URL).refine((url) => url === null || isHttpUrl(url), {
    error: (issue) => `must be an http or https URL: ${JSON.stringify(issue.input)}`,
  }),
  context: optionalText(MAX_CONTEXT)
    .transform((context) => context ?? 'default')
    .refine((context) => context.trim() !== '', { error: 'must not be blank' }),
});

const statusSchema = z
  .object({
    url: z.string(),
    avatar_url: z.null(),
    id: z.number(),
    node_id: z.string(),
    state: z.enum(STATES),
    description: z.string().nullable(),
    target_url: z.string().nullable(),
    context: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    creator: z.null(),
  })
  .meta({ id: 'CommitStatus' });

const combinedStatusSchema = z
  .object({
    state: z.enum(['failure', 'pending', 'success']),
    statuses: z.array(statusSchema.omit({ creator: true })),
    sha: z.string(),
    total_count: z.number(),
    repository: z.record(z.string(), z.unknown()),
    commit_url: z.string(),
    url: z.string(),
  })
  .meta({ id: 'CombinedStatus' });

const repoParams = z.object({ owner: z.string(), repo: z.string() });
const pageQuery = z.object(paginationQuery);

/** A body the schema refuses: 400 when it is no JSON object at all, else 422 naming the first bad field. */
function refusedBody(errors: FieldError[], req: Request): Error {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new StatusApiError(400, 'Problems parsing JSON: expected an object such as {"state": "success", "context": "ci"}');
  }
  return invalidField(errors[0].field, errors[0].message);
}

/** A `page` or `per_page` the schema refuses: 400 quoting it. */
function refusedPage(errors: FieldError[], req: Request): Error {
  const { field } = errors[0];
  return new StatusApiError(400, `${field} must be a positive integer, not ${JSON.stringify(req.query[field])}`);
}

export function statusesRouter(services: ServerServices): Router {
  const { webhooks, baseUrl } = services;
  const statuses = new StatusStore(services.kv);
  const limits: StatusLimits = { perContext: STATUSES_PER_CONTEXT, perCommit: services.config.hooks.statusesPerCommit };
  const open = (req: Request, params: z.infer<typeof repoParams>, needed: 'read' | 'write') =>
    authorizeRepository(services, req, params.owner, params.repo, needed, 'api');
  /** The readable repository and the commit its {ref} names. */
  const readCommit = async (req: Request, params: z.infer<typeof repoParams>) => {
    const { repo } = await open(req, params, 'read');
    return { repo, sha: await resolveCommit(repo, wildcardParam(req, 'ref')) };
  };
  const router = Router();

  defineRoute(router, {
    method: 'post',
    path: '/repos/:owner/:repo/statuses/:sha',
    tag: 'statuses',
    summary: 'Create a commit status',
    params: repoParams.extend({ sha: z.string() }),
    body: statusBody,
    bodyLimit: STATUS_BODY_LIMIT,
    refuse: refusedBody,
    response: { status: 201, schema: statusSchema },
    async handler({ req, res, params, body }) {
      const { repo } = await open(req, params, 'write');
      const sha = await existingCommit(repo, params.sha);
      const record = await appended(() => statuses.append(repo.info.id, sha, body, limits));
      await webhooks.statusCreated(repo, sha, record, { baseUrl: services.publicBaseUrl(), sender: requestUser(req).name });
      const json = statusJson(record, statusesUrl(repo, baseUrl(req), sha));
      res.location(json.url);
      return json;
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/commits/*ref/statuses',
    tag: 'statuses',
    summary: 'The statuses of a commit, newest first',
    params: repoParams,
    query: pageQuery,
    refuse: refusedPage,
    response: { status: 200, schema: z.array(statusSchema) },
    async handler({ req, res, params, query }) {
      const { repo, sha } = await readCommit(req, params);
      const page = paginateList(req, res, baseUrl(req), await statuses.list(repo.info.id, sha), pageRequest(query));
      const url = statusesUrl(repo, baseUrl(req), sha);
      return page.map((record) => statusJson(record, url));
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/repos/:owner/:repo/commits/*ref/status',
    tag: 'statuses',
    summary: 'The combined status of a commit: the latest status of each context',
    params: repoParams,
    query: pageQuery,
    refuse: refusedPage,
    response: { status: 200, schema: combinedStatusSchema },
    async handler({ req, res, params, query }) {
      const { repo, sha } = await readCommit(req, params);
      const latest = await statuses.latest(repo.info.id, sha);
      const base = baseUrl(req);
      const api = repositoryUrls(repo, base).api;
      const url = statusesUrl(repo, base, sha);
      const defaultBranch = (await repo.refs.head()).replace(/^refs\/heads\//, '');
      // GitHub lists up to 100 contexts of the combined status unless asked for fewer.
      const page = pageRequest({ ...query, per_page: query.per_page ?? query.limit ?? MAX_PER_PAGE });
      return {
        state: combinedState(latest),
        statuses: paginateList(req, res, base, latest, page).map((record) => {
          const { creator: _creator, ...simple } = statusJson(record, url);
          return simple;
        }),
        sha,
        total_count: latest.length,
        repository: repositoryObject(repo, base, { defaultBranch, pushedAt: null, pushStyle: false }),
        commit_url: `${api}/commits/${sha}`,
        url: `${api}/commits/${sha}/status`,
      };
    },
  });

  router.use(githubErrors);
  return router;
}

function statusesUrl(repo: Repository, baseUrl: string, sha: ObjectId): string {
  return `${repositoryUrls(repo, baseUrl).api}/statuses/${sha}`;
}

function statusJson(record: CommitStatus, url: string): z.infer<typeof statusSchema> {
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
  const reader = repo.commitReader();
  for (const name of candidates) {
    const oid = await repo.refs.get(name);
    if (oid === undefined) continue;
    const peeled = await reader.peel(oid);
    if (peeled?.type === 'commit') return peeled.oid;
  }
  throw new StatusApiError(422, `No commit found for SHA: ${ref}`);
}

/** Runs the append, turning a full commit or context into GitHub's 422. */
async function appended(append: () => Promise<CommitStatus>): Promise<CommitStatus> {
  try {
    return await append();
  } catch (error) {
    if (!(error instanceof StatusLimitReached)) throw error;
    throw new StatusApiError(422, `Validation Failed: ${error.message}`, [
      { resource: 'Status', field: error.field, code: 'custom', message: error.message },
    ]);
  }
}

/**
 * GitHub's error bodies for this API ({message, errors, documentation_url}); the rest of the
 * application's error handling (logging, server faults) stays with the API's handlers.
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
