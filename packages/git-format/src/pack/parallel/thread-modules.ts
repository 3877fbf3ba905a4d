import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/*
 * Under tsx (tests, tools) a module URL names a .ts file, and in a worker thread tsx's hooks
 * reach only `require`, as piscina loads its own workers; compiled, the URL names an ES module
 * to import. A data: URL as the worker's main module (unlike `eval`) gets the process's
 * --import preloads, tsx's hooks among them.
 */

/**
 * The URL of module `name` beside the module at `fromUrl` (its import.meta.url): name.ts under
 * tsx, name.js when compiled. Not import.meta.resolve, which tsx's require hook does not offer.
 */
export function siblingModule(fromUrl: string, name: string): string {
  const extension = fromUrl.slice(fromUrl.lastIndexOf('.'));
  return new URL(`./${name}${extension}`, fromUrl).href;
}

/** A main module for `new Worker()` that loads the module at `url`. */
export function workerMain(url: string): URL {
  const source = isTypeScript(url)
    ? `import { createRequire } from 'node:module'; createRequire(${JSON.stringify(url)})(${JSON.stringify(fileURLToPath(url))});`
    : `import ${JSON.stringify(url)};`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** The module at `url`, loaded from within a worker thread. */
export async function loadModule(url: string): Promise<unknown> {
  return isTypeScript(url) ? createRequire(url)(fileURLToPath(url)) : await import(url);
}

function isTypeScript(url: string): boolean {
  return url.endsWith('.ts');
}
