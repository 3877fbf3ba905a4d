/**
 * The id of a hook or of one of its deliveries as a URL names it: a positive integer of at most
 * 15 digits (so a safe integer); undefined for any other text, which names no hook (404).
 */
export function parseHookId(text: string): number | undefined {
  return /^[1-9]\d{0,14}$/.test(text) ? Number(text) : undefined;
}
