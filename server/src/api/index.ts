/**
 * The REST API under /api/v1: every router of the API, its OpenAPI document, and JSON answers
 * for unknown paths and refused requests.
 */
import { Router, type RequestHandler } from 'express';
import { HttpError } from '../http-errors.js';
import type { ServerServices } from '../services.js';
import { adminRouter } from './admin.js';
import { branchesRouter } from './branches.js';
import { collaboratorsRouter } from './collaborators.js';
import { commitsRouter } from './commits.js';
import { compareRouter } from './compare.js';
import { contentsRouter } from './contents.js';
import { openApiDocument } from './define-route.js';
import { apiErrorHandler } from './errors.js';
import { hooksRouter } from './hooks.js';
import { orgsRouter } from './orgs.js';
import { reposRouter } from './repos.js';
import { statusesRouter } from './statuses.js';
import { storageRouter } from './storage.js';
import { tagsRouter } from './tags.js';
import { teamsRouter } from './teams.js';
import { tokensRouter } from './tokens.js';
import { usersRouter } from './users.js';

export function apiRouter(services: ServerServices): Router {
  const router = Router();
  // Every router is built before the document is first asked for, so it lists them all.
  const routers = [
    usersRouter(services),
    adminRouter(services),
    storageRouter(services),
    tokensRouter(services),
    orgsRouter(services),
    teamsRouter(services),
    reposRouter(services),
    collaboratorsRouter(services),
    hooksRouter(services),
    // Before commitsRouter: its GET /repos/{o}/{r}/commits/*ref would swallow …/{ref}/status(es).
    statusesRouter(services),
    branchesRouter(services),
    tagsRouter(services),
    commitsRouter(services),
    contentsRouter(services),
    compareRouter(services),
  ];

  router.use(requireJsonBodies);
  router.get('/openapi.json', (req, res) => {
    res.json(openApiDocument(services.baseUrl(req)));
  });
  const answerErrors = apiErrorHandler();
  // Each router's refusals are answered right after it, so they never reach the error handlers
  // that later routers install for their own paths.
  for (const child of routers) router.use(child, answerErrors);
  router.use((req) => {
    throw new HttpError(404, `no API route for ${req.method} /api/v1${req.path}`);
  });
  router.use(answerErrors);
  return router;
}

/**
 * The API reads JSON only, declared as such (`application/json`, or a `+json` type): no HTML
 * form (urlencoded, multipart, text/plain) can then make an API request, and another site's
 * script cannot send a JSON body without a CORS preflight this server never grants.
 */
const requireJsonBodies: RequestHandler = (req, _res, next) => {
  const length = req.get('content-length');
  const hasBody = req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    throw new HttpError(
      415,
      `request bodies must be JSON sent with Content-Type: application/json, not ${JSON.stringify(req.get('content-type') ?? 'none')}`,
    );
  }
  next();
};
