import { InvalidRepositoryName, validateRepositoryName } from '@gitfleet/repository';
import { HttpError } from './http-errors.js';

/** HttpError 400 with the validator's reason for a name that is not allowed. */
export function checkName(owner: string, name: string): void {
  try {
    validateRepositoryName(owner, name);
  } catch (error) {
    if (error instanceof InvalidRepositoryName) throw new HttpError(400, error.message);
    throw error;
  }
}

export function cloneUrl(baseUrl: string, owner: string, name: string): string {
  return `${baseUrl}/${encodeURIComponent(owner)}/${encodeURIComponent(name)}.git`;
}
