/**
 * One REST API route: its schemas validate the request (422 with the zod issues as a message
 * on bad input, GitHub/Gitea style `{"message": …, "errors": […]}`) and describe it in the
 * OpenAPI document served at GET /api/v1/openapi.json. CONTRACT: the API owner replaces the
 * `declare`d stubs first thing; the other API modules build on it.
 */
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';

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
  /** Success status and the response body's schema (undefined: no body, e.g. 204). */
  response: { status: number; schema?: z.ZodType; description?: string };
  handler(input: { req: Request; res: Response; params: z.infer<Params>; query: z.infer<Query>; body: z.infer<Body> }): Promise<unknown>;
}

/**
 * Registers the route on `router` and in the OpenAPI document. The handler's resolved value is
 * sent as JSON with `response.status` (unless the handler already sent a response itself).
 */
export declare function defineRoute<Params extends z.ZodType = z.ZodObject, Query extends z.ZodType = z.ZodObject, Body extends z.ZodType = z.ZodUnknown>(
  router: Router,
  spec: RouteSpec<Params, Query, Body>,
): void;

/** The OpenAPI 3.1 document of every route defined so far. */
export declare function openApiDocument(baseUrl: string): object;
