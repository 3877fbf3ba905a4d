import type { z } from 'zod';

/**
 * `schema` with one of two alternative fields required (Gitea's `username` and GitHub's
 * `login`, say). The check runs even when other fields are invalid, so that a 422 names every
 * problem at once.
 */
export function requiringOneOf<T extends z.ZodObject>(schema: T, first: string, second: string) {
  return schema.refine((body: Record<string, unknown>) => body[first] !== undefined || body[second] !== undefined, {
    message: `${first} (or ${second}) is required`,
    path: [first],
    when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value),
  });
}
