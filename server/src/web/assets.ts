import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Router } from 'express';

interface Asset {
  body: Buffer;
  type: string;
  /** Content hash: pages link `?v=<version>`, so a cached copy is never stale. */
  version: string;
}

function load(file: string, type: string): Asset {
  const body = readFileSync(new URL(`./assets/${file}`, import.meta.url));
  return { body, type, version: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}

const ASSETS: Record<string, Asset> = {
  'gitfleet.css': load('gitfleet.css', 'text/css; charset=utf-8'),
  'gitfleet.js': load('gitfleet.js', 'text/javascript; charset=utf-8'),
};

/** The URL of an asset with its content version. */
export function assetUrl(file: keyof typeof ASSETS): string {
  return `/assets/${file}?v=${ASSETS[file].version}`;
}

/** /assets/<file>: cached for a year when asked for by its current version, revalidated otherwise. */
export function assetsRouter(): Router {
  const router = Router();
  router.get('/assets/:file', (req, res, next) => {
    const asset = Object.hasOwn(ASSETS, req.params.file) ? ASSETS[req.params.file] : undefined;
    if (!asset) {
      next();
      return;
    }
    const etag = `"${asset.version}"`;
    res.set('ETag', etag);
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Cache-Control', req.query.v === asset.version ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate');
    if (req.get('If-None-Match') === etag) {
      res.status(304).end();
      return;
    }
    res.type(asset.type).send(asset.body);
  });
  return router;
}
