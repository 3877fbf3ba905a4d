/** A revision that names nothing: the API answers 404 with its message. */
export class RevisionNotFound extends Error {
  override name = 'RevisionNotFound';
}

/** A path that does not exist at the revision: 404 with its message. */
export class PathNotFound extends Error {
  override name = 'PathNotFound';
}
