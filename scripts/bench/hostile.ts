// Hostile traffic (issue 9): each attack alone against one Gitfleet server, with /healthz and the
// server's RSS sampled meanwhile. Starts its own server (embedded default) unless given --url.
import { Command, InvalidArgumentError } from 'commander';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllDaemonsNow } from './daemon.js';
import { killRunningCommands } from './exec.js';
import { ADMIN_TOKEN } from './servers.js';
import { GitfleetApi } from './hostile/api.js';
import { contextFor, type Attack } from './hostile/attack.js';
import { credentialAttacks } from './hostile/attacks/credentials.js';
import { deltaBombAttacks } from './hostile/attacks/delta-bomb.js';
import { diffCpuAttacks } from './hostile/attacks/diff-cpu.js';
import { gitRefusalAttacks } from './hostile/attacks/git-refusals.js';
import { largeContentAttacks } from './hostile/attacks/large-content.js';
import { pktLineBombAttacks } from './hostile/attacks/pkt-line-bomb.js';
import { requestAmplificationAttacks } from './hostile/attacks/request-amplification.js';
import { slowClientAttacks } from './hostile/attacks/slow-clients.js';
import { webhookAttacks } from './hostile/attacks/webhooks.js';
import { formatResults, runAttacks } from './hostile/harness.js';
import { HookReceiver } from './hostile/receiver.js';
import { attachedServer, startOwnServer, type Target } from './hostile/target.js';

/** In the order of the issue's findings. */
const ATTACKS: readonly Attack[] = [
  ...pktLineBombAttacks,
  ...requestAmplificationAttacks,
  ...diffCpuAttacks,
  ...deltaBombAttacks,
  ...webhookAttacks.filter((a) => a.finding === '4'),
  ...credentialAttacks.filter((a) => a.finding === '5'),
  ...webhookAttacks.filter((a) => a.finding === '6'),
  ...credentialAttacks.filter((a) => a.finding !== '5'),
  ...webhookAttacks.filter((a) => a.finding === '9' || a.finding === '11'),
  ...largeContentAttacks,
  ...gitRefusalAttacks,
  ...slowClientAttacks,
];

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const positive = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const envPair = (value: string, previous: Record<string, string>) => {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected NAME=VALUE');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
};

const program = new Command('bench-hostile')
  .description('Runs the attacks of issue 9 one at a time against a Gitfleet server, sampling /healthz and its RSS meanwhile.')
  .option('--url <url>', 'attack this running server instead of starting one (it needs the bench administrator token, see --admin-token)')
  .option('--pid <pid>', 'with --url: the server process, whose RSS is then sampled', positive)
  .option('--admin-token <token>', "with --url: a site administrator's token (creates the attacks' accounts)", ADMIN_TOKEN)
  .option('--only <names>', 'attacks to run: names or name prefixes, e.g. pkt-bomb,hook-ssrf (see --list)', list)
  .option('--list', 'list the attacks and exit')
  .option('--attack-timeout <seconds>', 'time limit of each attack', positive, 60)
  .option('--setup-timeout <seconds>', "time limit of each attack's set-up (pushing a 300 MiB file takes a while)", positive, 900)
  .option('--recover-timeout <seconds>', 'how long a server may stay unresponsive after an attack before it is restarted', positive, 120)
  .option('--probe-interval <ms>', 'time between /healthz probes', positive, 20)
  .option(
    '--probe-timeout <ms>',
    'a /healthz probe unanswered this long counts as timed out (and as this long in the figures)',
    positive,
    30_000,
  )
  .option('--no-fresh-server', 'do not restart the started server before each attack (it otherwise meets each one at baseline memory)')
  .option(
    '--receiver-host <ip>',
    'loopback address of the webhook receiver (distinct from 127.0.0.1, which the SSRF attack targets)',
    '127.0.0.2',
  )
  .option(
    '--hook-allow <networks>',
    'GITFLEET_HOOK_ALLOWED_NETWORKS of the started server: lets hooks reach the receiver once SSRF is refused',
    '127.0.0.2/32',
  )
  .option(
    '--env <NAME=VALUE>',
    'more environment of the started server (repeatable), e.g. limits to try',
    envPair,
    {} as Record<string, string>,
  )
  .option('--json <file>', 'also write the results as JSON to this file ("-" for stdout; the table then goes to stderr)')
  .option('--keep', "keep the server's data and the attacks' scratch files (logs are always kept)")
  .parse();

interface Options {
  url?: string;
  pid?: number;
  adminToken: string;
  only?: string[];
  list?: boolean;
  attackTimeout: number;
  setupTimeout: number;
  recoverTimeout: number;
  probeInterval: number;
  probeTimeout: number;
  freshServer: boolean;
  receiverHost: string;
  hookAllow: string;
  env: Record<string, string>;
  json?: string;
  keep?: boolean;
}

function selected(only: string[] | undefined): Attack[] {
  if (!only) return [...ATTACKS];
  const unknown = only.filter((word) => !ATTACKS.some((attack) => attack.name.startsWith(word)));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`no attack named ${unknown.join(', ')}; known: ${ATTACKS.map((a) => a.name).join(', ')}`);
  return ATTACKS.filter((attack) => only.some((word) => attack.name.startsWith(word)));
}

async function main(options: Options): Promise<void> {
  if (options.list) {
    for (const attack of ATTACKS) console.log(`${attack.name.padEnd(28)} finding ${attack.finding}`);
    return;
  }
  const attacks = selected(options.only);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const workDir = path.join(projectRoot, '.bench', `hostile-${stamp}`);
  const logDir = path.join(workDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  process.once('exit', () => {
    killRunningCommands();
    killAllDaemonsNow();
  });

  const receiver = await HookReceiver.start(options.receiverHost);
  let target: Target | undefined;
  try {
    target = options.url
      ? attachedServer(options.url, options.pid)
      : await startOwnServer(
          { workDir, logDir, runId: `hostile-${process.pid}` },
          { GITFLEET_HOOK_ALLOWED_NETWORKS: options.hookAllow, ...options.env },
        );
    const server = target;
    log(`server ${server.base()}${server.pid() ? ` (pid ${server.pid()})` : ''}; logs in ${logDir}`);
    const machine = `${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the start`;
    const ctx = contextFor({
      target: server,
      api: new GitfleetApi(() => server.base(), options.adminToken),
      receiver,
      workDir,
      setupTimeoutMs: options.setupTimeout * 1000,
      runTag: Date.now().toString(36),
    });
    const results = await runAttacks(attacks, ctx, {
      attackTimeoutMs: options.attackTimeout * 1000,
      setupTimeoutMs: options.setupTimeout * 1000,
      recoverTimeoutMs: options.recoverTimeout * 1000,
      probeIntervalMs: options.probeInterval,
      probeTimeoutMs: options.probeTimeout,
      freshServer: options.freshServer,
      log,
    });
    const loadAtEnd = os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
    const table = [
      `Gitfleet ${options.url ? `at ${options.url}` : 'started on the embedded default (files + SQLite)'}; ${machine}, ${loadAtEnd} at the end.`,
      `/healthz every ${options.probeInterval} ms on a new connection; each attack at most ${options.attackTimeout} s${options.freshServer && !options.url ? ', on a server restarted just before it' : ''}.`,
      '',
      formatResults(results, 110),
    ].join('\n');
    if (options.json === '-') log(table);
    else console.log(table);
    if (options.json) {
      const document = JSON.stringify(
        { date: new Date().toISOString(), server: options.url ?? 'embedded default', machine, loadAtEnd, results },
        null,
        2,
      );
      if (options.json === '-') console.log(document);
      else await writeFile(options.json, `${document}\n`);
    }
  } finally {
    await target?.stop();
    await receiver.close();
    if (!options.keep) {
      await rm(path.join(workDir, 'scratch'), { recursive: true, force: true });
      if (target?.dataDir) await rm(target.dataDir, { recursive: true, force: true });
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killRunningCommands();
    killAllDaemonsNow();
    process.exit(130);
  });
}

main(program.opts<Options>()).catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
