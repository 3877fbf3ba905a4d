/** A URL as logged: the signature of a signed URL (a packfile URI or an LFS transfer, usable until it expires) left out. */
export function withoutSecrets(url: string): string {
  return url.replace(/([?&]signature=)[^&]*/g, '$1(redacted)');
}
