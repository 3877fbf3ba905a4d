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
