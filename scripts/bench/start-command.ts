import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER_ENTRY = 'server/dist/cli.js';
/**
 * `NAME=${NAME:-value}`: the start script gives node a variable unless the caller set it (to a
 * value that is not empty). Only plain values: one the shell would expand or unquote would be
 * taken here as written.
 */
const DEFAULTED_VARIABLE = /^([A-Z_][A-Z0-9_]*)=\$\{([A-Z_][A-Z0-9_]*):-([A-Za-z0-9._:/=,-]*)\}$/;

/**
 * The last command of the root package.json's `start` script (`… && [NAME=${NAME:-value}…] node
 * <options> server/dist/cli.js serve`): the benchmark runs the server exactly as `pnpm start`
 * does, allocator and heap sizing included, without a second copy to keep in step.
 */
function startCommand(): StartCommand {
  const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  return parseStartScript(manifest.scripts?.start ?? '');
}

export interface StartCommand {
  variables: Array<{ name: string; value: string }>;
  nodeOptions: string[];
}

/** What a start script's last command gives node; throws for one that is not of the form above. */
export function parseStartScript(start: string): StartCommand {
  const words = start.split('&&').at(-1)!.trim().split(/\s+/);
  const node = words.indexOf('node');
  const entry = words.indexOf(SERVER_ENTRY);
  const variables = words.slice(0, Math.max(node, 0)).map((word) => DEFAULTED_VARIABLE.exec(word));
  const endsInServe = entry === words.length - 2 && words.at(-1) === 'serve';
  if (node < 0 || entry < node || !endsInServe || variables.some((match) => !match || match[1] !== match[2]))
    throw new Error(`package.json's start script does not end in \`[NAME=\${NAME:-value}…] node … ${SERVER_ENTRY} serve\`: ${start}`);
  return { variables: variables.map((match) => ({ name: match![1], value: match![3] })), nodeOptions: words.slice(node + 1, entry) };
}

/** node's options in the start script. */
export function startNodeOptions(): string[] {
  return startCommand().nodeOptions;
}

/** The variables the start script gives node, where `env` does not set them already (empty counts as unset, as in the shell). */
export function startEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(startCommand().variables.flatMap(({ name, value }) => (env[name] ? [] : [[name, value]])));
}
