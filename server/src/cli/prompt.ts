import { createInterface } from 'node:readline/promises';
import { usageError } from './errors.js';

export interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

/**
 * The password from --password, from stdin (--password-stdin: all of it, without the final
 * newline, as `docker login --password-stdin`), or typed twice at a hidden prompt when stdin
 * is a terminal. Never echoed, never logged.
 */
export async function readPassword(options: PasswordOptions, forWhom: string): Promise<string> {
  if (options.password !== undefined && options.passwordStdin) throw usageError('give either --password or --password-stdin, not both');
  if (options.password !== undefined) return options.password;
  if (options.passwordStdin) {
    const password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
    if (password === '') throw usageError('--password-stdin: stdin was empty');
    return password;
  }
  if (!process.stdin.isTTY) throw usageError('no password: give --password, --password-stdin, or run on a terminal to be prompted');
  const password = await hiddenPrompt(`Password for ${forWhom}: `);
  if ((await hiddenPrompt('Repeat it: ')) !== password) throw usageError('the two passwords differ');
  return password;
}

/**
 * Whether a destructive command may go ahead: yes with --yes; otherwise the user must type
 * `expected` at a prompt. Without a terminal to ask on, it refuses rather than guess.
 */
export async function confirm(yes: boolean | undefined, what: string, expected: string): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw usageError(`refusing to ${what} without --yes (stdin is not a terminal to confirm on)`);
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await lines.question(`This will ${what}. Type ${JSON.stringify(expected)} to confirm: `)).trim() === expected;
  } finally {
    lines.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += chunk as string;
  return text;
}

/** Reads one line from the terminal in raw mode, echoing nothing; Ctrl-C aborts. */
function hiddenPrompt(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (settle: () => void) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      settle();
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish(() => resolve(typed));
        if (character === '\u0003' || character === '\u0004') return finish(() => reject(usageError('cancelled')));
        if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
        else typed += character;
      }
    };
    input.on('data', onData);
  });
}
