// Pushes racing on one branch: in each round several clients push different commits on the
// same base at once. Exactly one may win; the branch ends on the winner's commit; no commit
// the server reported as accepted is ever lost.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { GitClient, PROTOCOLS } from '@gitfleet/test-support/git-client';
import { serverForFile, serverTest } from '@gitfleet/test-support/server';
import { assertFsckClean, remoteRefs } from './helpers/compare.js';

const server = serverForFile();
const it = serverTest(() => server);

const ROUNDS = 5;
const CLIENTS = 4;

for (const protocol of PROTOCOLS) {
  describe(`protocol v${protocol}`, () => {
    let git: GitClient;

    before(async () => {
      git = await GitClient.create(protocol);
    });
    after(async () => {
      await git?.cleanup();
    });

    it(
      `${ROUNDS} rounds of ${CLIENTS} racing pushes: one winner each, nothing accepted is lost`,
      async () => {
        const url = await server.createRepo('e2e', `race-v${protocol}`);
        const seed = await git.init('seed');
        const root = await git.commitFiles(seed, { 'base.txt': 'base\n' }, 'base');
        await git.ok(['push', url, 'main'], { cwd: seed });
        const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => git.clone(url, `client-${i}`)));

        const accepted: string[] = [];
        let base = root;
        for (let round = 0; round < ROUNDS; round++) {
          const commits: string[] = [];
          for (const [i, dir] of clients.entries()) {
            await git.ok(['fetch', '-q', 'origin'], { cwd: dir });
            await git.ok(['reset', '-q', '--hard', 'origin/main'], { cwd: dir });
            assert.equal(await git.revParse(dir, 'HEAD'), base);
            commits.push(
              await git.commitFiles(dir, { [`round-${round}/client-${i}.txt`]: `${round} ${i}\n` }, `round ${round} client ${i}`),
            );
          }
          const results = await Promise.all(clients.map((dir) => git.run(['push', 'origin', 'main'], { cwd: dir })));
          const winners = results.flatMap((result, i) => (result.code === 0 ? [i] : []));
          const outputs = results.map((r, i) => `client ${i} (exit ${r.code}):\n${r.stderr}`).join('\n');
          assert.equal(winners.length, 1, `round ${round}: expected exactly one successful push\n${outputs}`);

          const tip = (await remoteRefs(git, url)).get('refs/heads/main');
          assert.equal(tip, commits[winners[0]], `round ${round}: main is not the winner's commit\n${outputs}`);
          accepted.push(tip);
          base = tip!;
        }

        const final = await git.clone(url, 'final');
        const history = (await git.ok(['rev-list', 'HEAD'], { cwd: final })).split('\n');
        assert.deepEqual(history, [...accepted].reverse().concat(root), 'main is not the chain of accepted commits');
        await assertFsckClean(git, final);
      },
      { timeout: 300_000 },
    );
  });
}
