/**
 * One REST API route: its schemas validate the request (422 with the zod issues as a message
 * on bad input, GitHub/Gitea style `{"message": …, "errors": […]}`) and describe it in the
 * OpenAPI document served at GET /api/v1/openapi.json.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<Params extends z.ZodType, Query extends z.ZodType, Body extends z.ZodType> {
  method: HttpMethod;
  /** Express style, relative to /api/v1: "/repos/:owner/:repo/branches". */
  path: string;
  /** OpenAPI tag: "users", "orgs", "repos", "git"… */
  tag: string;
  summary: string;
  params?: Params;
  query?: Query;
  body?: Body;
  /** Largest JSON body taken (default 64kb); a bigger one is refused (413) before it is parsed. */
  bodyLimit?: string;
  /** Success status and the response body's schema (undefined: no body, e.g. 204). */
  response: { status: number; schema?: z.ZodType; description?: string };
  /**
   * The error to answer input the schemas refuse with, for routes whose refusals follow a
   * dialect of their own (GitHub's commit statuses); without it, 422 `{"message": "Validation
   * Failed", "errors": […]}`. The error goes to the router's error handlers.
   */
  refuse?(errors: FieldError[], req: Request): Error;
  handler(input: { req: Request; res: Response; params: z.infer<Params>; query: z.infer<Query>; body: z.infer<Body> }): Promise<unknown>;
}

/** The API's JSON bodies are small; a bigger one is refused (413) before it is parsed. */
const JSON_BODY_LIMIT = '64kb';
// The API router refuses bodies of any other type (415) before any route runs.
const jsonBodyParser = (limit: string) => express.json({ limit, type: ['application/json', 'application/*+json'] });
const parseJsonBody = jsonBodyParser(JSON_BODY_LIMIT);

/**
 * Routes of every router built in this process, keyed by "METHOD path": a test process builds
 * many apps from the same modules, and each route belongs in the document once.
 */
const documentedRoutes = new Map<string, RouteConfig>();
/** The generated document (without its servers), until a route is (re)defined: generating takes a while. */
let generatedDocument: object | undefined;

const errorSchema = z.object({ message: z.string() }).meta({ id: 'Error' });
const validationErrorSchema = z
  .object({ message: z.literal('Validation Failed'), errors: z.array(z.object({ field: z.string(), message: z.string() })) })
  .meta({ id: 'ValidationError' });

/**
 * Registers the route on `router` and in the OpenAPI document. The handler's resolved value is
 * sent as JSON with `response.status` (unless the handler already sent a response itself).
 */
export function defineRoute<
  Params extends z.ZodType = z.ZodObject,
  Query extends z.ZodType = z.ZodObject,
  Body extends z.ZodType = z.ZodUnknown,
>(router: Router, spec: RouteSpec<Params, Query, Body>): void {
  const handle: RequestHandler = async (req, res, next) => {
    try {
      const errors: FieldError[] = [];
      const params = validate(spec.params, req.params, 'path', errors);
      const query = validate(spec.query, req.query, 'query', errors);
      // No body at all stands for an empty object, so `PUT …/memberships/x` without one works.
      const body = validate(spec.body, req.body ?? {}, 'body', errors);
      if (errors.length > 0) {
        if (spec.refuse) throw spec.refuse(errors, req);
        res.status(422).json({ message: 'Validation Failed', errors });
        return;
      }
      const result = await spec.handler({
        req,
        res,
        params: params as z.infer<Params>,
        query: query as z.infer<Query>,
        body: body as z.infer<Body>,
      });
      if (res.headersSent) return;
      res.status(spec.response.status);
      if (spec.response.schema === undefined || result === undefined) res.end();
      else res.json(result);
    } catch (error) {
      next(error);
    }
  };
  const parseBody = spec.bodyLimit === undefined ? parseJsonBody : jsonBodyParser(spec.bodyLimit);
  if (spec.body) router[spec.method](spec.path, parseBody, handle);
  else router[spec.method](spec.path, handle);
  documentRoute(spec);
}

/** What the document says of a route that a plain Express router answers (not defineRoute). */
export type RouteDescription = Omit<RouteSpec<z.ZodType, z.ZodType, z.ZodType>, 'handler'>;

/** Adds a route answered elsewhere to the OpenAPI document (validation stays that router's job). */
export function documentRoute(description: RouteDescription): void {
  documentedRoutes.set(`${description.method.toUpperCase()} ${description.path}`, routeConfig(description));
  generatedDocument = undefined;
}

/** The OpenAPI 3.1 document of every route defined so far. */
export function openApiDocument(baseUrl: string): object {
  generatedDocument ??= generateDocument();
  // The base URL may differ per request (the Host header), so it is added to the shared document.
  return { ...generatedDocument, servers: [{ url: `${baseUrl}/api/v1` }] };
}

function generateDocument(): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'basicAuth', {
    type: 'http',
    scheme: 'basic',
    description: 'User name with a password, or with a personal access token as the password',
  });
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'A personal access token' });
  for (const route of documentedRoutes.values()) registry.registerPath(route);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Gitfleet API',
      version: '1',
      description: 'Accounts, organisations, repositories and their git data, in the shapes GitHub and Gitea use.',
    },
    security: [{}, { basicAuth: [] }, { bearerAuth: [] }],
  });
}

/** One refused field of a request: its path in the body or query, or the location ("body") itself. */
export interface FieldError {
  field: string;
  message: string;
}

function validate(schema: z.ZodType | undefined, value: unknown, location: 'path' | 'query' | 'body', errors: FieldError[]): unknown {
  if (!schema) return value;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join('.');
    errors.push({ field: field === '' ? location : field, message: issue.message });
  }
  return undefined;
}

function routeConfig(spec: RouteDescription): RouteConfig {
  const { path, pathParams } = openApiPath(spec.path);
  const params = documentedParams(spec.params, pathParams);
  const success = {
    description: spec.response.description ?? spec.summary,
    ...(spec.response.schema ? { content: { 'application/json': { schema: spec.response.schema } } } : {}),
  };
  return {
    method: spec.method,
    path,
    tags: [spec.tag],
    summary: spec.summary,
    operationId: `${spec.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    request: {
      ...(params ? { params } : {}),
      ...(spec.query instanceof z.ZodObject ? { query: spec.query } : {}),
      ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses: {
      [String(spec.response.status)]: success,
      '4XX': { description: 'The request was refused', content: { 'application/json': { schema: errorSchema } } },
      ...(spec.params || spec.query || spec.body
        ? { '422': { description: 'Validation failed', content: { 'application/json': { schema: validationErrorSchema } } } }
        : {}),
    },
  };
}

/**
 * Express 5 path → OpenAPI path: ":owner" → "{owner}", a wildcard "*path" → "{path}", and an
 * optional group "{/*path}" → "/{path}" (OpenAPI has no optional path segments).
 */
function openApiPath(expressPath: string): { path: string; pathParams: string[] } {
  const pathParams: string[] = [];
  const path = expressPath.replace(/\{([^}]*)\}/g, '$1').replace(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    pathParams.push(name);
    return `{${name}}`;
  });
  return { path, pathParams };
}

/** The route's params schema, completed with a string for each path parameter it leaves out. */
function documentedParams(schema: z.ZodType | undefined, pathParams: string[]): z.ZodObject | undefined {
  const base = schema instanceof z.ZodObject ? schema : z.object({});
  const missing = pathParams.filter((name) => !(name in base.shape));
  const completed = missing.length > 0 ? base.extend(Object.fromEntries(missing.map((name) => [name, z.string()]))) : base;
  return Object.keys(completed.shape).length > 0 ? completed : undefined;
}
