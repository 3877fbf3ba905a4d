import { BranchFilterError, validateBranchFilter, type BranchFilterLimits } from './branch-filter.js';

/** Events a hook may subscribe to; `*` (GitHub's wildcard) means every one of them. */
export const HOOK_EVENTS = ['push', 'create', 'delete', 'status'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];
/** Every event a delivery can carry: ping goes to a hook whatever it subscribes to. */
export type DeliveryEvent = HookEvent | 'ping';

export type ContentType = 'json' | 'form';

/**
 * Whose events a hook receives: one repository's, or every repository of an owner's. Hooks are
 * keyed by the immutable id (of the repository, of the owner's account), never by a name that
 * someone else may register after a deletion; names are kept for the links in payloads.
 */
export type HookTarget =
  { kind: 'repository'; repositoryId: string; owner: string; name: string } | { kind: 'organization'; ownerId: string; owner: string };

export interface HookConfig {
  url: string;
  contentType: ContentType;
  /** Empty: deliveries go unsigned, as on GitHub. */
  secret: string;
  /** GitHub's "insecure_ssl": true skips TLS certificate verification. */
  insecureSsl: boolean;
}

export interface LastResponse {
  code: number | null;
  status: string;
  message: string | null;
}

export interface Hook {
  id: number;
  target: HookTarget;
  active: boolean;
  /** Subscribed events; may contain '*'. */
  events: Array<HookEvent | '*'>;
  config: HookConfig;
  /** Gitea's branch_filter: a glob over branch names; empty matches every branch. */
  branchFilter: string;
  createdAt: string;
  updatedAt: string;
  lastResponse: LastResponse;
  /** Deliveries given up on (retries exhausted or refused) since the last success. */
  consecutiveFailures: number;
  /** Why the server deactivated the hook, when it did. */
  disabledReason?: string;
}

/** A hook as an API client may set it; every field optional on update. */
export interface HookSettings {
  active: boolean;
  events: Array<HookEvent | '*'>;
  config: HookConfig;
  branchFilter: string;
}

/**
 * True when a delivery of `event` goes to this hook, its branch filter aside: a push's filters
 * are decided together, under one budget (BranchFilterDecisions).
 */
export function hookWants(hook: Hook, event: DeliveryEvent): boolean {
  if (!hook.active) return false;
  if (event === 'ping') return true;
  return hook.events.includes('*') || hook.events.includes(event);
}

/** What a hook's settings may be. */
export interface HookLimits {
  branchFilter: BranchFilterLimits;
}

/** A field of a hook request that is not acceptable; the API answers 422 with it. */
export class HookValidationError extends Error {
  override name = 'HookValidationError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * The settings of a create (all required fields present, defaults for the rest) or update
 * (only the fields given) request, in GitHub's shape — {config: {url, content_type, secret,
 * insecure_ssl}, events, active} — or Gitea's, which adds {type, branch_filter}.
 */
export function parseHookSettings(body: unknown, limits: HookLimits, current?: HookSettings): HookSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HookValidationError('body', 'expected a JSON object');
  const input = body as Record<string, unknown>;
  if (input.type !== undefined && !(typeof input.type === 'string' && ['gitea', 'gogs', 'forgejo', 'github', 'web'].includes(input.type))) {
    throw new HookValidationError('type', 'only webhooks in the GitHub or Gitea dialect (gitea, gogs, forgejo, github, web) are supported');
  }
  if (input.name !== undefined && input.name !== 'web') throw new HookValidationError('name', 'must be "web"');

  const configInput = input.config === undefined ? {} : input.config;
  if (typeof configInput !== 'object' || configInput === null || Array.isArray(configInput))
    throw new HookValidationError('config', 'expected an object');
  const config = configInput as Record<string, unknown>;
  const url = config.url ?? current?.config.url;
  if (typeof url !== 'string' || !isHttpUrl(url)) throw new HookValidationError('config.url', 'expected an http(s) URL');

  const contentType = config.content_type ?? current?.config.contentType ?? 'json';
  if (contentType !== 'json' && contentType !== 'form') throw new HookValidationError('config.content_type', 'expected "json" or "form"');
  const secret = config.secret ?? current?.config.secret ?? '';
  if (typeof secret !== 'string') throw new HookValidationError('config.secret', 'expected a string');
  const insecure = config.insecure_ssl ?? (current ? (current.config.insecureSsl ? '1' : '0') : '0');
  if (!['0', '1', 0, 1].includes(insecure as string | number)) throw new HookValidationError('config.insecure_ssl', 'expected "0" or "1"');

  // GitHub's update also takes add_events and remove_events next to (or instead of) events.
  let events = input.events === undefined ? (current?.events ?? ['push']) : parseEvents(input.events);
  if (input.add_events !== undefined) events = [...new Set([...events, ...parseEvents(input.add_events)])];
  if (input.remove_events !== undefined) {
    const removed = parseEvents(input.remove_events);
    events = events.filter((event) => !removed.includes(event));
  }

  const active = input.active ?? current?.active ?? true;
  if (typeof active !== 'boolean') throw new HookValidationError('active', 'expected true or false');
  const branchFilter = input.branch_filter ?? config.branch_filter ?? current?.branchFilter ?? '';
  if (typeof branchFilter !== 'string') throw new HookValidationError('branch_filter', 'expected a glob string');
  try {
    validateBranchFilter(branchFilter, limits.branchFilter);
  } catch (error) {
    if (error instanceof BranchFilterError)
      throw new HookValidationError('branch_filter', `${JSON.stringify(branchFilter.slice(0, 100))} ${error.message}`);
    throw error;
  }

  return { active, events, branchFilter, config: { url, contentType, secret, insecureSsl: insecure === '1' || insecure === 1 } };
}

function parseEvents(value: unknown): Array<HookEvent | '*'> {
  if (!Array.isArray(value) || value.some((event) => typeof event !== 'string'))
    throw new HookValidationError('events', 'expected an array of event names');
  const unknown = (value as string[]).filter((event) => event !== '*' && !(HOOK_EVENTS as readonly string[]).includes(event));
  if (unknown.length > 0)
    throw new HookValidationError('events', `unsupported event(s) ${unknown.join(', ')}; supported: *, ${HOOK_EVENTS.join(', ')}`);
  return [...new Set(value as Array<HookEvent | '*'>)];
}

/** True for an absolute http or https URL: where hooks deliver, what statuses link to, the server's public URL and S3 endpoint. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
