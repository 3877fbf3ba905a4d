import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { StoreInterceptor } from '@gitfleet/storage';
import { gitAsync } from '@gitfleet/test-support/git';
import { ADMIN_GIT_CONFIG, TEST_ADMIN_ENV, adminHeaders, ensureUser, testServer, type TestServer } from '@gitfleet/test-support/server';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/index.js';

export {
  ADMIN_GIT_CONFIG,
  TEST_ADMIN,
  TEST_ADMIN_PASSWORD,
  TEST_ADMIN_TOKEN,
  adminHeaders,
  ensureUser,
  type TestServer,
} from '@gitfleet/test-support/server';

/**
 * A server in this process (tests reach its stores' files and time its event loop) on a free
 * port over a fresh temporary data directory, logging nothing, with TEST_ADMIN; on the
 * embedded backend unless `env` chooses another. A `storeInterceptor` sees (and may fail) every
 * request of its stores.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { storeInterceptor?: StoreInterceptor } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gitfleet-server-test-'));
  const config = loadConfig({ PORT: '0', GITFLEET_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...TEST_ADMIN_ENV, ...env });
  const server = await startServer({ config, shutdownGraceMs: 1000, storeInterceptor: options.storeInterceptor });
  let running = true;
  return testServer({
    url: server.url,
    dataDir,
    cliEnv: { GITFLEET_DATA_DIR: dataDir, ...env },
    backend: config.blobs.backend === 'fs' ? 'embedded' : 'distributed',
    // It logs nothing: its errors reach the test as exceptions.
    logTail: () => '',
    alive: () => running,
    async stop() {
      running = false;
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A request whose path goes out byte for byte: fetch() would resolve "%2e%2e" and ".."
 * segments before sending, and hostile paths are exactly what must reach the server.
 * It is made as TEST_ADMIN unless `anonymous`.
 */
export function rawRequest(
  baseUrl: string,
  rawPath: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; anonymous?: boolean } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const headers = options.anonymous ? options.headers : adminHeaders(options.headers);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: hostname, port, path: rawPath, method: options.method ?? 'GET', headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** fetch() as TEST_ADMIN. */
export function adminFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: adminHeaders(Object.fromEntries(new Headers(init.headers).entries())) });
}

/** Creates owner/name (public) as TEST_ADMIN, creating the owner as a user first if it does not exist. */
export async function createRepo(baseUrl: string, owner: string, name: string): Promise<Response> {
  await ensureUser(baseUrl, owner);
  return fetch(`${baseUrl}/api/v1/repos`, {
    method: 'POST',
    headers: adminHeaders({ 'content-type': 'application/json' }),
    body: JSON.stringify({ owner, name }),
  });
}

/**
 * git as TEST_ADMIN towards these tests' servers, run without blocking this process's event
 * loop (the server may be in it); a new repository's branch is main. `env` adds variables.
 */
export function adminGit(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return gitAsync(cwd, [...ADMIN_GIT_CONFIG, '-c', 'init.defaultBranch=main', ...args], { env });
}
