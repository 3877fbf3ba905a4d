/**
 * Real Chromium for the browser tests: Debian's `chromium` package (installed by
 * scripts/servers/chromium.sh; Playwright's own browser download is not possible here), driven
 * by playwright-core through its executablePath. A missing browser is an error, never a skip.
 */
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_EXECUTABLE = process.env.GITFLEET_CHROMIUM || '/usr/bin/chromium';

/**
 * No GPU, no QUIC, and none of the background traffic (component updates, sync, field trials)
 * a fresh profile would otherwise start; --no-sandbox because test machines often run as root.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** One browser process with its own fresh profile: its cookies are nobody else's. */
export interface TestBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh --user-data-dir (removed by close()). `baseURL` lets the tests
 * write page.goto('/login'). Console errors of the pages are collected in `pageErrors`.
 */
export async function launchBrowser(baseURL: string): Promise<TestBrowser & { pageErrors: string[] }> {
  try {
    await access(CHROMIUM_EXECUTABLE, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM_EXECUTABLE}: run \`scripts/servers/chromium.sh install\` (Debian's chromium package), ` +
        'or point GITFLEET_CHROMIUM at a Chromium executable',
    );
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'gitfleet-chromium-'));
  let context: BrowserContext;
  try {
    // A persistent context is what takes a user-data-dir; it is fresh, so nothing persists.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_EXECUTABLE,
      headless: true,
      args: CHROMIUM_ARGS,
      baseURL,
      timeout: 60_000,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
