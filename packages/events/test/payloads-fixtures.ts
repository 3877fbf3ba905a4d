/**
 * For the payload tests: a client work tree whose commits the real git makes (dates and zones
 * chosen per commit), pushed into a Repository through receive-pack with packs from
 * `git pack-objects`, and GitHub's published webhook schemas compiled with ajv.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ZERO_OID } from '@gitfleet/git-format';
import { receivePack, type AppliedRefUpdate } from '@gitfleet/protocol';
import type { Repository } from '@gitfleet/repository';
import { BlockCache } from '@gitfleet/repository';
import { git, gitText } from '@gitfleet/test-support/git';
import { collect, parseResponse, pushRequest, requestStream } from '@gitfleet/test-support/receive-pack-wire';
import { TEST_PROTOCOL_LIMITS } from '@gitfleet/test-support/protocol-limits';
import { storesBackends } from '@gitfleet/test-support/stores';

/** Every payload test runs on the in-memory stores and on the embedded default (files + SQLite). */
export const backends = storesBackends(() => ({ cache: new BlockCache({ blockSize: 16 * 1024, maxBytes: 4 * 1024 * 1024 }) }));

/** The client's author and committer: two people, so that payloads show which is which. */
const CLIENT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Charles Babbage',
  GIT_COMMITTER_EMAIL: 'charles@example.com',
};

/** A work tree on branch main; each commit gets the next minute and the zone asked for. */
export class Client {
  private clock = 1_700_000_000;

  constructor(readonly dir: string) {
    git('.', ['init', '--quiet', '-b', 'main', dir]);
  }

  git(args: string[], env: Record<string, string> = {}): string {
    return gitText(this.dir, args, undefined, { ...CLIENT_IDENTITY, ...env });
  }

  /** Writes (string) or deletes (null) files, then commits them all; returns the commit id. */
  commit(message: string, files: Record<string, string | null>, zone = '+0100', extraArgs: string[] = []): string {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(this.dir, name);
      if (content === null) rmSync(file, { recursive: true, force: true });
      else {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    this.git(['add', '--all']);
    this.clock += 60;
    const date = `${this.clock} ${zone}`;
    this.git(['commit', '--quiet', '--allow-empty', '-m', message, ...extraArgs], {
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: `${this.clock + 5} +0000`,
    });
    return this.rev('HEAD');
  }

  /**
   * `count` commits on the current branch in one `git fast-import` (a process per commit is
   * slow); commit i writes `files(i)`. The work tree is brought up to date afterwards.
   */
  commitMany(count: number, files: (i: number) => Record<string, string>): void {
    const branch = this.git(['symbolic-ref', 'HEAD']);
    const parent = this.rev('HEAD');
    const chunks: string[] = [];
    const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
    for (let i = 1; i <= count; i++) {
      this.clock += 60;
      chunks.push(`commit ${branch}\n`);
      chunks.push(
        `author Ada Lovelace <ada@example.com> ${this.clock} +0100\ncommitter Charles Babbage <charles@example.com> ${this.clock + 5} +0000\n`,
      );
      chunks.push(data(`commit ${i}\n`));
      if (i === 1) chunks.push(`from ${parent}\n`);
      for (const [name, content] of Object.entries(files(i))) chunks.push(`M 100644 inline ${name}\n`, data(content));
      chunks.push('\n');
    }
    git(this.dir, ['fast-import', '--quiet'], chunks.join(''));
    this.git(['read-tree', '-u', '--reset', 'HEAD']);
  }

  /** Runs a git command that makes a commit (merge, amend…) at the next minute. */
  commitWith(args: string[]): string {
    this.clock += 60;
    this.git(args, { GIT_AUTHOR_DATE: `${this.clock} +0000`, GIT_COMMITTER_DATE: `${this.clock} +0000` });
    return this.rev('HEAD');
  }

  rev(name: string): string {
    return this.git(['rev-parse', name]);
  }

  /** `git rev-list --reverse` of the arguments, oldest first. */
  revList(args: string[]): string[] {
    return this.git(['rev-list', '--reverse', ...args])
      .split('\n')
      .filter(Boolean);
  }

  /**
   * The files of each commit against its first parent (all added for a root commit), as
   * `git log --name-status` lists them without rename detection.
   */
  nameStatus(commits: string[]): Map<string, ChangedFiles> {
    const out = this.git([
      '-c',
      'core.quotePath=false',
      'log',
      '--no-walk=unsorted',
      '--diff-merges=first-parent',
      '--no-renames',
      '--name-status',
      '--format=%x01%H',
      ...commits,
    ]);
    const files = new Map<string, ChangedFiles>();
    for (const record of out.split('\x01').filter(Boolean)) {
      const [id, ...lines] = record.split('\n');
      const result: ChangedFiles = { added: [], removed: [], modified: [] };
      for (const line of lines.filter(Boolean)) {
        const [status, file] = line.split('\t');
        if (status === 'A') result.added.push(file);
        else if (status === 'D') result.removed.push(file);
        else result.modified.push(file);
      }
      files.set(id, result);
    }
    return files;
  }

  /** What `git log` says of each commit: tree, author, committer, author date (%aI), message (%B). */
  describe(commits: string[]): Map<string, GitCommitFacts> {
    const out = this.git(['log', '--no-walk=unsorted', '--format=%H%x00%T%x00%an%x00%ae%x00%cn%x00%ce%x00%aI%x00%B%x01', ...commits]);
    const facts = new Map<string, GitCommitFacts>();
    for (const record of out
      .split('\x01')
      .map((r) => r.replace(/^\n/, ''))
      .filter(Boolean)) {
      const [id, tree, authorName, authorEmail, committerName, committerEmail, authorDate, message] = record.split('\0');
      facts.set(id, {
        tree,
        author: { name: authorName, email: authorEmail },
        committer: { name: committerName, email: committerEmail },
        authorDate,
        message: message.replace(/\n+$/, ''),
      });
    }
    return facts;
  }
}

export interface ChangedFiles {
  added: string[];
  removed: string[];
  modified: string[];
}

export interface GitCommitFacts {
  tree: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
  authorDate: string;
  message: string;
}

export interface PushCommand {
  ref: string;
  /** A revision of the client (or ZERO_OID to delete). */
  newOid: string;
}

/**
 * Pushes like `git push` does: the commands against the repository's current refs, with a
 * pack of what the repository lacks. Returns what receive-pack reports as applied.
 */
export async function push(repo: Repository, client: Client, spoolDir: string, commands: PushCommand[]): Promise<AppliedRefUpdate[]> {
  const current = new Map((await repo.refs.list()).map((ref) => [ref.name, ref.oid]));
  const lines = commands.map((command) => ({ ref: command.ref, old: current.get(command.ref) ?? ZERO_OID, new: command.newOid }));
  const wanted = lines.filter((line) => line.new !== ZERO_OID).map((line) => line.new);
  let pack: Buffer | undefined;
  if (wanted.length > 0) {
    const revs = [...wanted, ...[...current.values()].map((oid) => `^${oid}`)];
    pack = git(client.dir, ['pack-objects', '--stdout', '--revs', '--quiet', '--delta-base-offset'], revs.join('\n') + '\n');
  }
  let applied: AppliedRefUpdate[] = [];
  const body = pushRequest(lines, { capabilities: ['report-status', 'delete-refs', 'agent=git/2.39'], pack });
  const response = await receivePack(repo, requestStream(body), {
    limits: TEST_PROTOCOL_LIMITS,
    spoolDir,
    onRefsUpdated: async (updates) => {
      applied = updates;
    },
  });
  const report = parseResponse(await collect(response), false).report;
  const refused = report.filter((line) => !line.startsWith('ok ') && line !== 'unpack ok');
  if (refused.length > 0) throw new Error(`push refused: ${refused.join('; ')}`);
  return applied;
}

type WebhookEventName = 'push' | 'create' | 'delete' | 'ping' | 'status';

/** Validators for GitHub's published event schemas (@octokit/webhooks-schemas). */
export function webhookSchemas(): Record<WebhookEventName, ValidateFunction> {
  const require = createRequire(import.meta.url);
  const schema = require('@octokit/webhooks-schemas') as object;
  const ajv = new Ajv({ strict: true, allErrors: true });
  // ajv-formats is CommonJS; its default export arrives wrapped under tsx's interop.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => void;
  addFormats(ajv);
  // Documented by the schema package: a TypeScript-only annotation ajv must accept.
  ajv.addKeyword('tsAdditionalProperties');
  // Only the definitions, without the root's oneOf over every event: ajv then compiles just
  // what the events reference instead of all 344 definitions.
  ajv.addSchema({ definitions: (schema as { definitions: object }).definitions }, 'webhooks');
  const get = (definition: string) => ajv.compile({ $ref: `webhooks#/definitions/${definition}` });
  return {
    push: get('push$event'),
    create: get('create$event'),
    delete: get('delete$event'),
    ping: get('ping$event'),
    status: get('status$event'),
  };
}

/** The validator's errors in a readable form, for assertion messages. */
export function schemaErrors(validate: ValidateFunction): string {
  return JSON.stringify(validate.errors, null, 2);
}
