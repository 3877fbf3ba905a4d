import type { Repository } from '@gitfleet/repository';
import { repositoryObject, repositoryUrls, userObject } from './github-objects.js';

export interface PingHook {
  /** GitHub's hook ids are integers; a decimal string is sent as the number it spells. */
  id: number | string;
  type?: string;
  name?: string;
  events: string[];
  active: boolean;
  config: { url: string; content_type: string; secret?: string; insecure_ssl?: string };
  /** ISO 8601; now when absent. */
  created_at?: string;
  updated_at?: string;
}

export interface PingOptions {
  /**
   * The repository's default branch (the target of its HEAD). The ping is built synchronously,
   * so it cannot read HEAD itself; "main", the default of repositories created through the
   * API, when absent.
   */
  defaultBranch?: string;
}

/** GitHub's zen sayings, one of which every ping carries. */
const ZEN = [
  'Responsive is better than fast.',
  'Speak like a human.',
  'Design for failure.',
  'Half measures are as bad as nothing at all.',
  'Keep it logically awesome.',
  'Mind your words, they are important.',
  'Non-blocking is better than blocking.',
  'Anything added dilutes everything else.',
  'Practicality beats purity.',
  'Approachable is better than simple.',
  'Favor focus over features.',
  'Avoid administrative distraction.',
  'It’s not fully shipped until it’s fast.',
  'Encourage flow.',
];

/**
 * GitHub's `ping` event for a hook just created (or pinged through the API). The hook's
 * secret is never echoed: GitHub shows "********" when one is set.
 */
export function buildPingPayload(hook: PingHook, repo: Repository, baseUrl: string, options: PingOptions = {}): object {
  const id = typeof hook.id === 'string' && /^\d+$/.test(hook.id) ? Number(hook.id) : hook.id;
  const hookUrl = `${repositoryUrls(repo, baseUrl).api}/hooks/${encodeURIComponent(String(hook.id))}`;
  const now = new Date().toISOString();
  const config: Record<string, string> = {
    content_type: hook.config.content_type,
    insecure_ssl: hook.config.insecure_ssl ?? '0',
    url: hook.config.url,
  };
  if (hook.config.secret) config.secret = '********';
  return {
    zen: ZEN[Math.floor(Math.random() * ZEN.length)],
    hook_id: id,
    hook: {
      type: hook.type ?? 'Repository',
      id,
      name: hook.name ?? 'web',
      active: hook.active,
      events: hook.events,
      config,
      updated_at: hook.updated_at ?? now,
      created_at: hook.created_at ?? now,
      url: hookUrl,
      test_url: `${hookUrl}/test`,
      ping_url: `${hookUrl}/pings`,
      deliveries_url: `${hookUrl}/deliveries`,
      last_response: { code: null, status: 'unused', message: null },
    },
    repository: repositoryObject(repo, baseUrl, { defaultBranch: options.defaultBranch ?? 'main', pushedAt: null, pushStyle: false }),
    sender: userObject(repo.info.owner, baseUrl),
  };
}
