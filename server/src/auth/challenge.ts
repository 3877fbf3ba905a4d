import { HttpError } from '../http-errors.js';
import { AUTH_REALM } from './constants.js';

/**
 * 401 with the Basic challenge: git (and its credential helpers) only ask for credentials after
 * such an answer, and browsers and HTTP libraries retry with them.
 */
export function unauthorized(message: string): HttpError {
  return new HttpError(401, message, { headers: { 'WWW-Authenticate': `Basic realm="${AUTH_REALM}", charset="UTF-8"` } });
}
