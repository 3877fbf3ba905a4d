import type { Command } from 'commander';
import { QuotaStore, type StorageQuota } from '@gitfleet/accounts';
import { LfsObjectRecords } from '@gitfleet/repository';
import { ownerStorageJson, quotaJson } from '../api/storage.js';
import { parseByteSize } from '../config.js';
import { formatBytes } from '../format-bytes.js';
import { existingOwner, ownerName } from '../operations/owners.js';
import { StorageQuotas } from '../operations/storage-quotas.js';
import { withStores, type CliContext } from './context.js';
import { usageError } from './errors.js';
import { printJson, printTable } from './output.js';

/** The option of each limit, and the quota field it sets. */
const LIMIT_OPTIONS = [
  { option: 'packs', field: 'packsBytes', label: 'git data (packs)' },
  { option: 'lfs', field: 'lfsBytes', label: 'Git LFS' },
  { option: 'total', field: 'totalBytes', label: 'total' },
] as const;

type LimitOptions = Partial<Record<(typeof LIMIT_OPTIONS)[number]['option'], string>>;

export function registerQuotaCommands(program: Command): void {
  const quota = program.command('quota').description("an owner's storage: what its repositories hold (git packs, Git LFS) and its limits");

  quota
    .command('show')
    .description('usage and limits of a user or organisation')
    .argument('<owner>')
    .option('--json', "print the REST API's storage shape (bytes; null: no limit)")
    .action(async (name: string, options: { json?: boolean }) => {
      await withStores(async (context) => {
        const owner = ownerName(await existingOwner(context.accounts, name));
        const quotas = storageQuotas(context);
        const [usage, limits] = await Promise.all([quotas.usage(owner), quotas.quota(owner)]);
        if (options.json) return printJson(ownerStorageJson({ owner, usage, quota: limits }));
        printTable(
          ['storage', 'used', 'limit'],
          LIMIT_OPTIONS.map(({ field, label }) => ({
            storage: label,
            used: formatBytes(usage[field]),
            limit: limits[field] === undefined ? 'none' : `${formatBytes(limits[field])}${limitPercent(usage[field], limits[field])}`,
          })),
          'no storage',
        );
      });
    });

  const set = quota
    .command('set')
    .description("change an owner's limits; a limit not named stays as it is, `none` removes it; prints the quota")
    .argument('<owner>');
  for (const { option, label } of LIMIT_OPTIONS)
    set.option(`--${option} <size>`, `limit of ${label}: bytes, or 512M, 2GiB…; none: no limit`);
  set.action(async (name: string, options: LimitOptions) => {
    const changes = parseLimits(options);
    if (changes.size === 0) throw usageError(`name a limit to set: ${LIMIT_OPTIONS.map(({ option }) => `--${option}`).join(', ')}`);
    await withStores(async (context) => {
      const owner = ownerName(await existingOwner(context.accounts, name));
      const quotas = storageQuotas(context);
      const updated: StorageQuota = { ...(await quotas.quota(owner)) };
      for (const [field, bytes] of changes) updated[field] = bytes;
      await quotas.setQuota(owner, updated);
      printJson({ owner, ...quotaJson(await quotas.quota(owner)) });
    });
  });
}

function storageQuotas({ registry, stores }: CliContext): StorageQuotas {
  return new StorageQuotas(registry, stores, new QuotaStore(stores.kv), new LfsObjectRecords(stores.kv));
}

/** The limits named on the command line: bytes, or undefined for `none`. */
function parseLimits(options: LimitOptions): Map<keyof StorageQuota, number | undefined> {
  const changes = new Map<keyof StorageQuota, number | undefined>();
  for (const { option, field } of LIMIT_OPTIONS) {
    const text = options[option];
    if (text === undefined) continue;
    if (text.trim().toLowerCase() === 'none') {
      changes.set(field, undefined);
      continue;
    }
    const bytes = parseByteSize(text);
    if (bytes === undefined || !Number.isSafeInteger(bytes)) {
      throw usageError(`--${option}: expected a size such as 1048576, 512M or 2GiB, or none; got ${JSON.stringify(text)}`);
    }
    changes.set(field, bytes);
  }
  return changes;
}

function limitPercent(used: number, limit: number): string {
  return limit === 0 ? '' : ` (${Math.round((used / limit) * 100)}% used)`;
}
