import { finished, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { User } from '@gitfleet/accounts';
import { encodePktLine, FLUSH_PKT } from '@gitfleet/git-format';
import {
  advertiseReceivePack,
  advertiseUploadPack,
  receivePack,
  RequestRefused,
  uploadPack,
  type ProtocolVersion,
} from '@gitfleet/protocol';
import { LockStore, RepositoryExists, type Repository } from '@gitfleet/repository';
import { authorizeRepository, requestActor } from './auth/index.js';
import { checkName, HttpError } from './http-errors.js';
import type { Logger } from './logger.js';
import { PushSlots } from './limits/push-slots.js';
import { lockedPathsPolicy } from './lfs/locks/push-check.js';
import { GitOperation } from './metrics/git.js';
import { watchQueue } from './metrics/queues.js';
import { packfileUris } from './packfile-uris.js';
import { createRepository, creationOwner } from './operations/create-repository.js';
import { CreationRefused, OwnerNotFound } from './operations/errors.js';
import { openRequestBody, requestMediaType, type RequestBody } from './request-body.js';
import { requestUser } from './request-user.js';
import { lingerThenClose } from './lingering-close.js';
import type { ServerServices } from './services.js';

type Service = 'git-upload-pack' | 'git-receive-pack';

/**
 * Test only (test/webhooks-outbox.test.ts): the process kills itself with SIGKILL right after a
 * push's refs moved, before its recorded events are marked due, the window the outbox covers.
 */
const CRASH_AFTER_REF_UPDATE = process.env.GITFLEET_TEST_CRASH_AFTER_REF_UPDATE === '1';

/**
 * Test only (test/webhooks-outbox.test.ts): a push waits this long between recording its events
 * and its ref update, as a process stalled there would.
 */
const STALL_BEFORE_REF_UPDATE_MS = Number(process.env.GITFLEET_TEST_STALL_BEFORE_REF_UPDATE_MS ?? '0');

/** What a repository this push is about to create advertises: nothing yet (advertiseReceivePack reads only its refs). */
const NOT_YET_CREATED = { refs: { list: async () => [] } } as unknown as Repository;

/**
 * Git's smart HTTP protocol (gitprotocol-http), stateless-RPC form, as `git http-backend`
 * serves it. `:repo` may carry a ".git" suffix; repository names never end in ".git".
 * Fetching needs read access, pushing (its advertisement included) write access; see
 * auth/index.ts for the 401/403/404 answers.
 */
export function gitHttpRouter(services: ServerServices): Router {
  const { config, logger, webhooks } = services;
  const limits = config.limits;
  const pushSlots = new PushSlots(config.pushes);
  watchQueue('push-slots', pushSlots);
  const uris = packfileUris(services);
  const locks = new LockStore(services.kv, services.blobs, config.lfsLocks);
  const router = Router();
  router.use(uris.router);

  router.get('/:owner/:repo/info/refs', async (req, res) => {
    const service = requestedService(req.query.service);
    if (service === 'git-upload-pack') {
      const { repo } = await authorizeRepository(services, req, req.params.owner, req.params.repo, 'read', 'git');
      const version = protocolVersion(req.get('git-protocol'));
      sendAdvertisement(res, service, await advertiseUploadPack(repo, version, { packfileUris: uris.enabled }), version !== 2);
    } else {
      const repo = await repositoryToPushTo(services, req, 'advertise');
      // receive-pack speaks only v0 (git never asks for v2 when pushing, and `git
      // receive-pack` ignores such a request), so it always gets the service line.
      sendAdvertisement(res, service, await advertiseReceivePack(repo ?? NOT_YET_CREATED), true);
    }
  });

  router.post('/:owner/:repo/git-upload-pack', async (req, res) => {
    const { repo } = await authorizeRepository(services, req, req.params.owner, req.params.repo, 'read', 'git');
    const body = openRpcBody(req, 'git-upload-pack', limits.maxRequestBytes);
    const version = protocolVersion(req.get('git-protocol'));
    const operation = new GitOperation('upload-pack', version, body.bytesRead);
    const serving = preferTransportFailure(
      body,
      uploadPack(repo, body.stream, { version, limits, packfileUris: uris.sourceFor(req) }),
    ).catch(inBandRefusal);
    const response = await operation.beforeResponse(serving);
    await sendResult(req, res, 'git-upload-pack', body, response, logger, operation);
  });

  router.post('/:owner/:repo/git-receive-pack', async (req, res) => {
    const repo = (await repositoryToPushTo(services, req, 'push'))!;
    // Admitted before any byte is spooled; the slot is held until the answer is over. A client
    // that leaves while its push waits gives up its place.
    // stream.finished, unlike a 'close' listener, also fires for a response that closed during
    // the awaits above: a slot is never held for a client that is already gone. One listener
    // does both (a response has a dozen listeners already; node warns past ten).
    const clientGone = new AbortController();
    const slot: { release?: () => void } = {};
    finished(res, () => {
      clientGone.abort(new Error('the client went away while its push waited for a slot'));
      slot.release?.();
    });
    slot.release = await pushSlots.acquire(requestActor(req)?.user.name ?? `address ${req.socket.remoteAddress}`, clientGone.signal);
    // The commands before the pack are small; the pack has its own limit in the protocol.
    const body = openRpcBody(req, 'git-receive-pack', limits.maxPackBytes + limits.maxPushCommandBytes);
    const operation = new GitOperation('receive-pack', 0, body.bytesRead);
    const lockedPaths = lockedPathsPolicy(repo, locks, requestUser(req).name, config.lfsLocks.maxChecksPerPush);
    const serving = preferTransportFailure(
      body,
      receivePack(repo, body.stream, {
        limits,
        packAllowance: await services.quotas.room(repo.info.owner, 'packs'),
        packLimits: config.packIndexing.limits,
        indexPool: services.indexPool,
        spoolDir: services.spoolDir,
        actor: requestUser(req).name,
        onError: (error) => logger.error({ err: error, repo: repo.info.id, path: req.originalUrl }, 'push failed'),
        onReport: (summary) => operation.pushReported(summary),
        refuseUpdate: (update, pushed) => lockedPaths.refuseUpdate(update, pushed),
        beforeRefUpdate: async (updates) => {
          // The push's events are recorded durably before any ref moves; if they cannot be,
          // the push fails: an acknowledged push never loses its events.
          const pending = await webhooks
            .recordRefEvents(repo, updates, { pusher: requestUser(req), baseUrl: services.publicBaseUrl() })
            .catch((error: unknown) => {
              logger.error({ err: error, repo: repo.info.id }, 'push refused: its webhook events could not be recorded');
              throw new Error('webhook events could not be recorded, no ref was changed; try again');
            });
          if (!pending) return;
          if (STALL_BEFORE_REF_UPDATE_MS > 0) await new Promise((resolve) => setTimeout(resolve, STALL_BEFORE_REF_UPDATE_MS));
          return {
            reflogMessage: pending.reflogMessage,
            fence: pending.fence,
            afterRefUpdate: async () => {
              if (CRASH_AFTER_REF_UPDATE) process.kill(process.pid, 'SIGKILL');
              await webhooks.refsUpdated(pending);
            },
          };
        },
        onRefsUpdated: async (updates, pushOptions) => {
          logger.info({ repo: repo.info.id, owner: repo.info.owner, name: repo.info.name, updates, pushOptions }, 'refs updated');
          services.maintenance.afterPush(repo);
        },
      }),
    );
    const response = await operation.beforeResponse(serving);
    await sendResult(req, res, 'git-receive-pack', body, response, logger, operation);
  });

  return router;
}

/**
 * The repository a push writes to, with write access checked. With push-to-create on, a
 * repository that does not exist is, for someone who may create under its owner, advertised
 * empty (undefined at 'advertise') and created private when the pack arrives ('push').
 */
async function repositoryToPushTo(services: ServerServices, req: Request, phase: 'advertise' | 'push'): Promise<Repository | undefined> {
  const owner = String(req.params.owner);
  const nameInUrl = String(req.params.repo);
  try {
    return (await authorizeRepository(services, req, owner, nameInUrl, 'write', 'git')).repo;
  } catch (error) {
    const name = nameInUrl.endsWith('.git') ? nameInUrl.slice(0, -'.git'.length) : nameInUrl;
    const creator = error instanceof HttpError && error.status === 404 ? await pushCreator(services, req, owner, name) : undefined;
    if (!creator) throw error;
    if (phase === 'advertise') return undefined;
    try {
      const created = await createRepository(services, { owner, name, private: true, creator });
      services.logger.info({ repo: created.info.id, owner: created.info.owner, name, by: creator.name }, 'repository created by a push');
    } catch (raced) {
      // Someone created it meanwhile: push to it like to any other, if allowed.
      if (!(raced instanceof RepositoryExists)) throw raced;
    }
    return (await authorizeRepository(services, req, owner, nameInUrl, 'write', 'git')).repo;
  }
}

/** The user whose push may create owner/name: push-to-create is on and they may create under its owner. */
async function pushCreator(services: ServerServices, req: Request, owner: string, name: string): Promise<User | undefined> {
  const actor = requestActor(req);
  if (!services.config.pushCreate || !actor) return undefined;
  checkName(owner, name);
  // Only a repository that does not exist: one the actor cannot see stays a 404.
  if (await services.registry.open(owner, name)) return undefined;
  try {
    await creationOwner(services.accounts, owner, actor.user);
    return actor.user;
  } catch (error) {
    if (error instanceof OwnerNotFound || error instanceof CreationRefused) return undefined;
    throw error;
  }
}

function requestedService(service: unknown): Service {
  if (service === undefined) {
    throw new HttpError(403, 'the dumb HTTP protocol is not supported: use a git client that speaks smart HTTP (git 1.6.6 or later)');
  }
  if (service !== 'git-upload-pack' && service !== 'git-receive-pack') {
    throw new HttpError(403, `unsupported service ${JSON.stringify(service)}: expected git-upload-pack or git-receive-pack`);
  }
  return service;
}

/**
 * The protocol version a client asks for in its Git-Protocol header
 * ("version=2", possibly among other colon-separated parameters). As `git upload-pack`
 * does, the highest version named wins and anything unknown means v0.
 */
export function protocolVersion(header: string | undefined): ProtocolVersion {
  let version: ProtocolVersion = 0;
  for (const parameter of (header ?? '').split(':')) {
    const match = /^version=([012])$/.exec(parameter.trim());
    if (match) version = Math.max(version, Number(match[1])) as ProtocolVersion;
  }
  return version;
}

function setNoCache(res: Response): void {
  // The same headers as `git http-backend`: proxies must never serve a stale ref list.
  res.set({
    Expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
    Pragma: 'no-cache',
    'Cache-Control': 'no-cache, max-age=0, must-revalidate',
  });
}

function sendAdvertisement(res: Response, service: Service, body: Buffer[], withServiceLine: boolean): void {
  const head = withServiceLine ? [encodePktLine(`# service=${service}\n`), FLUSH_PKT] : [];
  setNoCache(res);
  res
    .status(200)
    .type(`application/x-${service}-advertisement`)
    .end(Buffer.concat([...head, ...body]));
}

function openRpcBody(req: Request, service: Service, maxBytes: number) {
  const expected = `application/x-${service}-request`;
  const actual = requestMediaType(req);
  if (actual !== expected) {
    throw new HttpError(415, `expected Content-Type ${expected}, got ${actual === '' ? 'none' : JSON.stringify(actual)}`);
  }
  return openRequestBody(req, maxBytes);
}

/**
 * When the body stream failed because of the transport (over the limit, bad gzip), that is
 * the real cause, whatever error the protocol made of its unreadable input.
 */
/** A refused request answered as git's upload-pack does: an ERR packet, shown by git as "remote error: …". */
function inBandRefusal(error: unknown): AsyncIterable<Buffer> {
  if (!(error instanceof RequestRefused)) throw error;
  return Readable.from([encodePktLine(`ERR ${error.message}\n`)]);
}

async function preferTransportFailure<T>(body: { failure(): HttpError | undefined }, result: Promise<T>): Promise<T> {
  try {
    return await result;
  } catch (error) {
    throw body.failure() ?? error;
  }
}

async function sendResult(
  req: Request,
  res: Response,
  service: Service,
  body: RequestBody,
  response: AsyncIterable<Buffer>,
  logger: Logger,
  operation: GitOperation,
): Promise<void> {
  setNoCache(res);
  res.status(200).type(`application/x-${service}-result`);
  let cutOff: 'failed' | 'client-gone' | undefined;
  try {
    // pipeline waits for 'drain' (backpressure) and, when the client goes away, destroys
    // the source, which returns the protocol's iterator so that it can release its work.
    // It adds half a dozen 'close' listeners to a response that has several (logging, metrics,
    // guards, the push slot): a fixed number per response, not a leak, past node's warning at ten.
    res.setMaxListeners(20);
    await pipeline(Readable.from(counted(response, operation), { objectMode: false }), res);
    // Bytes the protocol left unread (after a v2 command's flush, say) would otherwise stall
    // this keep-alive connection; they are drained, still within the body's limit.
    body.stream.resume();
    if (!req.complete) lingerThenClose(req);
  } catch (error) {
    if (isClientGone(error)) {
      cutOff = 'client-gone';
      logger.info({ service, path: req.originalUrl }, 'client disconnected during the response');
    } else {
      cutOff = 'failed';
      // Headers and part of the body are out: the only honest signal left is a cut
      // connection (pipeline has already destroyed it), never a response that looks whole.
      logger.error({ err: error, service, path: req.originalUrl }, 'response failed after it started');
      res.destroy();
    }
  }
  operation.end(res.statusCode, cutOff);
}

/** The response, counted as it goes out. */
async function* counted(response: AsyncIterable<Buffer>, operation: GitOperation): AsyncIterable<Buffer> {
  for await (const chunk of response) {
    operation.sending(chunk.length);
    yield chunk;
  }
}

function isClientGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}
