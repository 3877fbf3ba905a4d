/**
 * A request the protocol refuses before any response byte is produced. `status` is the
 * HTTP status the server answers with (400 malformed, 413 over a limit, 403, 404…).
 */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * A well-formed request that the server will not serve (a want of an id it does not offer,
 * an unknown want-ref). git's upload-pack answers these with an "ERR" packet, which the
 * client shows as "remote error: …"; an HTTP front end should do the same rather than
 * fail the request, and use `status` only where no pkt-line channel exists.
 */
export class RequestRefused extends ProtocolError {
  constructor(message: string) {
    super(message, 400);
    this.name = 'RequestRefused';
  }
}
