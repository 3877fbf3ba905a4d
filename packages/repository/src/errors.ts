import type { ObjectId } from '@gitfleet/git-format';

/**
 * An object the repository should have but does not: a delta's base, a walk's target, an object
 * a fetch is to send (JGit's MissingObjectException). A missing object that is a normal answer
 * (a lookup by a client's id) is `undefined`, never this.
 */
export class MissingObjectError extends Error {
  override name = 'MissingObjectError';

  constructor(
    readonly oid: ObjectId,
    context: string,
  ) {
    super(`object ${oid} is missing (${context})`);
  }
}

/** A pack, or its index, that is registered but absent from the blob store, or not registered at all. */
export class MissingPackError extends Error {
  override name = 'MissingPackError';

  constructor(
    readonly pack: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Stored pack bytes that contradict themselves or their index: an entry that does not inflate to
 * its size, a delta that does not apply, an ofs-delta into the middle of an entry, a file shorter
 * than its index says (JGit's CorruptObjectException, PackInvalidException).
 */
export class CorruptPackError extends Error {
  override name = 'CorruptPackError';

  constructor(
    readonly pack: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
