/** fsck of commits, tags and trees as receive.fsckObjects runs it, and the .gitmodules checks. */
import { checkGitmodules, fsckObject, FsckError, parseGitConfig, type ObjectType } from '@gitfleet/git-format';
import { OBJECT_HEADER_TOKENS } from '../limits.js';

export const coverage = [
  'packages/git-format/src/fsck.ts',
  'packages/git-format/src/gitmodules.ts',
  'packages/git-format/src/dotgit-names.ts',
];
export const dictionary = [
  ...OBJECT_HEADER_TOKENS,
  'type blob',
  'tag v1',
  '100644 ',
  '100755 ',
  '40000 ',
  '160000 ',
  '120000 ',
  '.gitmodules',
  '.GITMOD~1',
  '.git',
  'GIT~1',
  'git~1',
  '\xe2\x80\x8c',
  '\xef\xbb\xbf',
  '.gitmodules\x00',
  ' +0000\n',
  '[submodule "',
  '"]\n',
  '\tpath = ',
  '\turl = ',
  '\tupdate = !',
  '../',
  './',
  'git://',
  'http://',
  '%0a',
  '\\\n',
  '[include]',
];
export const maxLength = 4096;

const TYPES: readonly ObjectType[] = ['commit', 'tag', 'tree'];

export function fuzz(data: Buffer): void {
  if (data.length === 0) return;
  const body = data.subarray(1);
  try {
    if (data[0] % 4 === 3) {
      let entries = 0;
      parseGitConfig(body, () => void entries++);
      checkGitmodules(body);
    } else {
      const links = fsckObject(TYPES[data[0] % 4], body);
      for (const link of links) if (!/^[0-9a-f]{40}$/.test(link)) throw new Error(`fsck returned the link "${link}"`);
    }
  } catch (error) {
    if (error instanceof FsckError) return;
    throw error;
  }
}
