import express, { type Request, type RequestHandler } from 'express';

/** Form posts are a few fields; anything bigger is refused (413) before it is parsed. */
export const parseForm: RequestHandler = express.urlencoded({ extended: false, limit: '32kb' });

/** A text field of the posted form, trimmed; "" when absent. */
export function field(req: Request, name: string): string {
  return untrimmedField(req, name).trim();
}

/** A field exactly as sent, for values whose spaces count (a password, a token). */
export function untrimmedField(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** Every value of a repeated field (checkboxes). */
export function fields(req: Request, name: string): string[] {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

export function checked(req: Request, name: string): boolean {
  return field(req, name) !== '';
}
