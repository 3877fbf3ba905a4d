import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  ACCOUNTS_SCOPE,
  AccountConflict,
  AccountNotFound,
  AccountStore,
  InvalidAccountInput,
  TOKEN_SCOPES,
  argon2Hasher,
  atLeast,
  hasScope,
  type Actor,
  type RepositoryRef,
  type User,
} from '@gitfleet/accounts';
import type { KVStore } from '@gitfleet/storage';
import { backends, type OpenedStore } from './backends.js';

// Cheap argon2 parameters: the suite hashes dozens of passwords.
const hasher = argon2Hasher({ memoryCost: 1024, timeCost: 2 });
const PASSWORD = 'correct horse battery';
const DAY = 24 * 60 * 60 * 1000;

async function snapshot(kv: KVStore): Promise<string> {
  return JSON.stringify(await kv.scan(ACCOUNTS_SCOPE, ''));
}

for (const backend of backends) {
  describe(`AccountStore on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStore;
    let accounts: AccountStore;
    let now: Date;

    beforeEach(async () => {
      opened = await backend.open();
      now = new Date('2031-05-01T12:00:00.000Z');
      accounts = new AccountStore(opened.kv, { passwordHasher: hasher, clock: () => now });
    });
    afterEach(() => opened.close());

    const user = (name: string, extra: { isAdmin?: boolean } = {}) =>
      accounts.createUser({ name, email: `${name.toLowerCase()}@example.com`, password: PASSWORD, ...extra });

    /** Asserts that `action` throws `type` and leaves the store untouched. */
    async function refusedWithoutWrites(action: () => Promise<unknown>, type: new (...args: never[]) => Error, message?: RegExp) {
      const before = await snapshot(opened.kv);
      await assert.rejects(action, (error: Error) => {
        assert.ok(error instanceof type, `expected ${type.name}, got ${error.constructor.name}: ${error.message}`);
        if (message) assert.match(error.message, message);
        return true;
      });
      assert.equal(await snapshot(opened.kv), before);
    }

    describe('users', () => {
      it('creates, gets (ignoring case), lists, updates and deletes users', async () => {
        const alice = await accounts.createUser({ name: 'Alice', email: 'alice@example.com', password: PASSWORD, fullName: 'Alice A.' });
        assert.deepEqual(alice, {
          id: alice.id,
          name: 'Alice',
          email: 'alice@example.com',
          fullName: 'Alice A.',
          isAdmin: false,
          createdAt: now.toISOString(),
        });
        const bob = await user('bob', { isAdmin: true });
        assert.notEqual(bob.id, alice.id);
        assert.match(alice.id, /^[0-9]+$/);

        assert.deepEqual(await accounts.getUser('alice'), alice);
        assert.deepEqual(await accounts.getUser('ALICE'), alice);
        assert.equal(await accounts.getUser('carol'), undefined);
        assert.equal(await accounts.getUser('not a name'), undefined);
        assert.deepEqual(
          (await accounts.listUsers()).map((u) => u.name),
          ['Alice', 'bob'],
        );
        assert.ok(!('passwordHash' in (await accounts.listUsers())[0]));

        const updated = await accounts.updateUser('ALICE', {
          email: 'a@example.org',
          fullName: 'A',
          isAdmin: true,
          password: 'new password!',
        });
        assert.deepEqual(updated, { ...alice, email: 'a@example.org', fullName: 'A', isAdmin: true });
        assert.deepEqual(await accounts.getUser('alice'), updated);
        assert.equal(await accounts.verifyPassword('alice', PASSWORD), undefined);
        assert.deepEqual(await accounts.verifyPassword('alice', 'new password!'), updated);

        await accounts.deleteUser('aLiCe');
        assert.equal(await accounts.getUser('alice'), undefined);
        assert.equal(await accounts.getOwner('alice'), undefined);
        assert.deepEqual(
          (await accounts.listUsers()).map((u) => u.name),
          ['bob'],
        );
        await assert.rejects(accounts.deleteUser('alice'), AccountNotFound);
        await assert.rejects(accounts.updateUser('alice', { fullName: 'x' }), AccountNotFound);
        // The name is free again, under a new id.
        const again = await user('alice');
        assert.notEqual(again.id, alice.id);
      });

      it('keeps users and organisations in one case-insensitive namespace', async () => {
        await user('Alice');
        await refusedWithoutWrites(() => user('alice'), AccountConflict, /alice is already taken by a user/);
        await refusedWithoutWrites(() => accounts.createOrganization({ name: 'ALICE', creator: 'alice' }), AccountConflict);
        const acme = await accounts.createOrganization({ name: 'Acme', creator: 'alice' });
        await refusedWithoutWrites(() => user('acme'), AccountConflict, /taken by an organization/);
        await refusedWithoutWrites(() => accounts.createOrganization({ name: 'acme', creator: 'alice' }), AccountConflict);

        const owner = await accounts.getOwner('ACME');
        assert.deepEqual(owner, { kind: 'org', org: acme });
        assert.equal((await accounts.getOwner('alice'))?.kind, 'user');
        assert.equal(await accounts.getOwner('nobody'), undefined);
        assert.equal(await accounts.getUser('acme'), undefined);
        assert.equal(await accounts.getOrganization('alice'), undefined);
      });

      it('refuses bad names, emails, passwords and full names, writing nothing', async () => {
        await user('existing');
        const badNames = [
          '',
          'a b',
          '.hidden',
          '-dash',
          'a..b',
          'repo.git',
          'x'.repeat(101),
          'a/b',
          'a:b',
          'é',
          'api',
          'Login',
          'SETTINGS',
          'healthz',
          'orgs',
        ];
        for (const name of badNames) {
          await refusedWithoutWrites(() => accounts.createUser({ name, email: 'x@example.com', password: PASSWORD }), InvalidAccountInput);
          await refusedWithoutWrites(() => accounts.createOrganization({ name, creator: 'existing' }), InvalidAccountInput);
        }
        for (const email of ['', 'nope', 'a@b@c', 'a b@c', '@example.com', 'a@']) {
          await refusedWithoutWrites(() => accounts.createUser({ name: 'x', email, password: PASSWORD }), InvalidAccountInput, /email/);
          await refusedWithoutWrites(() => accounts.updateUser('existing', { email }), InvalidAccountInput, /email/);
        }
        for (const password of ['', 'seven77']) {
          await refusedWithoutWrites(
            () => accounts.createUser({ name: 'x', email: 'x@example.com', password }),
            InvalidAccountInput,
            /password/,
          );
          await refusedWithoutWrites(() => accounts.updateUser('existing', { password }), InvalidAccountInput, /password/);
        }
        await refusedWithoutWrites(
          () => accounts.createUser({ name: 'x', email: 'x@example.com', password: PASSWORD, fullName: 'line\nbreak' }),
          InvalidAccountInput,
        );
        // The edges of what is allowed.
        await user('x'.repeat(100));
        await user('a.b_c-D9');
        await accounts.createUser({ name: 'eight', email: 'e@x', password: '12345678' });
      });

      it('verifies passwords: right, wrong, unknown user', async () => {
        const alice = await user('alice');
        assert.deepEqual(await accounts.verifyPassword('alice', PASSWORD), alice);
        assert.deepEqual(await accounts.verifyPassword('ALICE', PASSWORD), alice);
        assert.equal(await accounts.verifyPassword('alice', 'wrong password'), undefined);
        assert.equal(await accounts.verifyPassword('alice', ''), undefined);
        assert.equal(await accounts.verifyPassword('nobody', PASSWORD), undefined);
        assert.equal(await accounts.verifyPassword('not a name', PASSWORD), undefined);
        // Stored hashed (argon2id), never in clear.
        const stored = await snapshot(opened.kv);
        assert.ok(!stored.includes(PASSWORD));
        assert.ok(stored.includes('$argon2id$'));
      });

      it('lets exactly one of several concurrent creations of a name win', async () => {
        const rival = new AccountStore(opened.kv, { passwordHasher: hasher, clock: () => now });
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? rival : accounts).createUser({ name: i % 3 ? 'Racer' : 'racer', email: `r${i}@example.com`, password: PASSWORD }),
          ),
        );
        const won = results.filter((result) => result.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const result of results) {
          if (result.status === 'rejected') assert.ok(result.reason instanceof AccountConflict, String(result.reason));
        }
        assert.equal((await accounts.listUsers()).length, 1);
      });

      it('leaves nothing naming a user deleted while grants to it are being added', async () => {
        await user('alice');
        await accounts.createOrganization({ name: 'acme', creator: 'alice' });
        await accounts.createTeam('acme', { name: 'devs', permission: 'write' });
        for (let round = 0; round < 4; round++) {
          await user('bob');
          const results = await Promise.allSettled([
            accounts.setCollaborator('r1', 'bob', 'write'),
            accounts.createToken('bob', { name: 'ci', scopes: ['read:repository'] }),
            accounts.createSession('bob'),
            accounts.addTeamMember('acme', 'devs', 'bob'),
            accounts.deleteUser('bob'),
          ]);
          for (const result of results) {
            if (result.status === 'rejected') assert.ok(result.reason instanceof AccountNotFound, String(result.reason));
          }
          assert.equal(await accounts.getUser('bob'), undefined);
          const keys = (await opened.kv.scan(ACCOUNTS_SCOPE, '')).map(({ key }) => key);
          assert.deepEqual(
            keys.filter((key) => /(^|:)bob(:|$)/.test(key)),
            [],
            `round ${round}`,
          );
          assert.equal((await opened.kv.scan(ACCOUNTS_SCOPE, 'token:')).length, 0);
          assert.equal((await opened.kv.scan(ACCOUNTS_SCOPE, 'session:')).length, 0);
        }
      });

      it('gives concurrent creations of different names distinct ids', async () => {
        const created = await Promise.all(Array.from({ length: 8 }, (_, i) => user(`user${i}`)));
        assert.equal(new Set(created.map((u) => u.id)).size, 8);
        assert.equal((await accounts.listUsers()).length, 8);
      });
    });

    describe('organisations', () => {
      it('creates an organisation owned by its creator, with members and roles', async () => {
        const alice = await user('alice');
        const bob = await user('bob');
        const acme = await accounts.createOrganization({ name: 'Acme', creator: 'ALICE', fullName: 'Acme Inc.', description: 'Widgets' });
        assert.deepEqual(acme, { id: acme.id, name: 'Acme', fullName: 'Acme Inc.', description: 'Widgets', createdAt: now.toISOString() });
        assert.notEqual(acme.id, alice.id);
        assert.deepEqual(await accounts.getOrganization('acme'), acme);
        assert.deepEqual(await accounts.listOrganizations(), [acme]);
        assert.equal(await accounts.memberRole('acme', 'alice'), 'owner');
        assert.equal(await accounts.memberRole('acme', 'bob'), undefined);

        await accounts.setMember('ACME', 'Bob', 'member');
        assert.equal(await accounts.memberRole('acme', 'bob'), 'member');
        assert.deepEqual(await accounts.listMembers('acme'), [
          { user: alice, role: 'owner' },
          { user: bob, role: 'member' },
        ]);
        assert.deepEqual(await accounts.listUserOrganizations('bob'), [{ org: acme, role: 'member' }]);

        const updated = await accounts.updateOrganization('acme', { description: 'Gadgets' });
        assert.deepEqual(updated, { ...acme, description: 'Gadgets' });
        assert.deepEqual(await accounts.getOrganization('ACME'), updated);

        await accounts.removeMember('acme', 'bob');
        assert.equal(await accounts.memberRole('acme', 'bob'), undefined);
        assert.deepEqual(await accounts.listUserOrganizations('bob'), []);
        await accounts.removeMember('acme', 'bob'); // not a member: nothing to do

        await refusedWithoutWrites(() => accounts.createOrganization({ name: 'ghost-org', creator: 'nobody' }), AccountNotFound);
        await refusedWithoutWrites(() => accounts.setMember('acme', 'nobody', 'member'), AccountNotFound);
        await refusedWithoutWrites(() => accounts.setMember('nope', 'bob', 'member'), AccountNotFound);
        await refusedWithoutWrites(() => accounts.setMember('acme', 'bob', 'boss' as 'owner'), InvalidAccountInput);
        await assert.rejects(accounts.listMembers('nope'), AccountNotFound);
        await assert.rejects(accounts.listUserOrganizations('nobody'), AccountNotFound);
      });

      it('never loses the last owner', async () => {
        await user('alice');
        await user('bob');
        await accounts.createOrganization({ name: 'acme', creator: 'alice' });
        await refusedWithoutWrites(() => accounts.setMember('acme', 'alice', 'member'), AccountConflict, /last owner/);
        await refusedWithoutWrites(() => accounts.removeMember('acme', 'alice'), AccountConflict, /last owner/);
        await refusedWithoutWrites(() => accounts.deleteUser('alice'), AccountConflict, /last owner/);

        await accounts.setMember('acme', 'bob', 'owner');
        await accounts.setMember('acme', 'alice', 'member');
        assert.equal(await accounts.memberRole('acme', 'alice'), 'member');
        await refusedWithoutWrites(() => accounts.removeMember('acme', 'bob'), AccountConflict);
        await accounts.deleteUser('alice');
        assert.deepEqual(
          (await accounts.listMembers('acme')).map(({ user: u, role }) => [u.name, role]),
          [['bob', 'owner']],
        );
      });

      it('deletes an organisation with its teams and memberships', async () => {
        await user('alice');
        await user('bob');
        await accounts.createOrganization({ name: 'acme', creator: 'alice' });
        await accounts.createTeam('acme', { name: 'devs', permission: 'write' });
        await accounts.addTeamMember('acme', 'devs', 'bob');
        await accounts.addTeamRepository('acme', 'devs', 'r1');
        const before = await snapshot(opened.kv);
        assert.match(before, /acme/);

        await accounts.deleteOrganization('ACME');
        assert.equal(await accounts.getOrganization('acme'), undefined);
        assert.equal(await accounts.getOwner('acme'), undefined);
        assert.deepEqual(await accounts.listUserOrganizations('alice'), []);
        assert.deepEqual(await accounts.listUserOrganizations('bob'), []);
        const bob = (await accounts.getUser('bob'))!;
        assert.equal(await accounts.repositoryAccess(bob, { id: 'r1', owner: 'acme', private: true }), 'none');
        // Nothing naming the organisation or its team is left (ids are never reused).
        const keys = (await opened.kv.scan(ACCOUNTS_SCOPE, '')).map(({ key }) => key);
        assert.deepEqual(
          keys.filter((key) => /acme|team|r1/.test(key) && !key.startsWith('seq:')),
          [],
        );
        await assert.rejects(accounts.deleteOrganization('acme'), AccountNotFound);

        // The name is free for anyone again, and the old teams do not come back.
        await accounts.createOrganization({ name: 'acme', creator: 'bob' });
        assert.deepEqual(await accounts.listTeams('acme'), []);
      });
    });

    describe('teams', () => {
      beforeEach(async () => {
        await user('alice');
        await user('bob');
        await accounts.createOrganization({ name: 'acme', creator: 'alice' });
      });

      it('creates, lists, renames and deletes teams with members and repositories', async () => {
        const devs = await accounts.createTeam('acme', { name: 'Devs', description: 'Developers', permission: 'write' });
        assert.deepEqual(devs, {
          id: devs.id,
          org: 'acme',
          name: 'Devs',
          description: 'Developers',
          permission: 'write',
          includesAllRepositories: false,
          createdAt: now.toISOString(),
        });
        const ops = await accounts.createTeam('ACME', { name: 'ops', permission: 'admin', includesAllRepositories: true });
        assert.deepEqual(await accounts.getTeam('acme', 'devs'), devs);
        assert.deepEqual(await accounts.listTeams('acme'), [devs, ops]);
        await refusedWithoutWrites(() => accounts.createTeam('acme', { name: 'DEVS', permission: 'read' }), AccountConflict);
        await refusedWithoutWrites(() => accounts.createTeam('acme', { name: 'bad name', permission: 'read' }), InvalidAccountInput);
        await refusedWithoutWrites(() => accounts.createTeam('acme', { name: 'x', permission: 'owner' as 'admin' }), InvalidAccountInput);
        await refusedWithoutWrites(() => accounts.createTeam('nope', { name: 'x', permission: 'read' }), AccountNotFound);

        // Adding bob to a team makes him a member of the organisation.
        await accounts.addTeamMember('acme', 'devs', 'BOB');
        assert.equal(await accounts.memberRole('acme', 'bob'), 'member');
        assert.deepEqual(
          (await accounts.listTeamMembers('acme', 'devs')).map((u) => u.name),
          ['bob'],
        );
        await accounts.addTeamMember('acme', 'devs', 'bob'); // already there
        await accounts.addTeamRepository('acme', 'devs', 'abc123');
        await accounts.addTeamRepository('acme', 'devs', 'def456');
        assert.deepEqual(await accounts.listTeamRepositories('acme', 'devs'), ['abc123', 'def456']);
        await refusedWithoutWrites(() => accounts.addTeamRepository('acme', 'devs', 'not an id'), InvalidAccountInput);
        await refusedWithoutWrites(() => accounts.addTeamMember('acme', 'devs', 'nobody'), AccountNotFound);
        await refusedWithoutWrites(() => accounts.addTeamMember('acme', 'nope', 'bob'), AccountNotFound);

        const renamed = await accounts.updateTeam('acme', 'devs', { name: 'Developers', permission: 'read' });
        assert.deepEqual(renamed, { ...devs, name: 'Developers', permission: 'read' });
        assert.equal(await accounts.getTeam('acme', 'devs'), undefined);
        assert.deepEqual(await accounts.getTeam('acme', 'developers'), renamed);
        assert.deepEqual(
          (await accounts.listTeamMembers('acme', 'developers')).map((u) => u.name),
          ['bob'],
        );
        await refusedWithoutWrites(() => accounts.updateTeam('acme', 'developers', { name: 'OPS' }), AccountConflict);
        // Changing only the case of its name is allowed.
        assert.equal((await accounts.updateTeam('acme', 'developers', { name: 'DEVELOPERS' })).name, 'DEVELOPERS');

        await accounts.removeTeamRepository('acme', 'developers', 'abc123');
        assert.deepEqual(await accounts.listTeamRepositories('acme', 'developers'), ['def456']);
        await accounts.removeTeamMember('acme', 'developers', 'bob');
        assert.deepEqual(await accounts.listTeamMembers('acme', 'developers'), []);
        assert.equal(await accounts.memberRole('acme', 'bob'), 'member'); // still in the organisation

        await accounts.addTeamMember('acme', 'developers', 'bob');
        await accounts.deleteTeam('acme', 'developers');
        assert.equal(await accounts.getTeam('acme', 'developers'), undefined);
        assert.deepEqual(await accounts.listTeams('acme'), [ops]);
        const bob = (await accounts.getUser('bob'))!;
        // The team's write grant went with it: bob reads as a member of the organisation only.
        assert.equal(await accounts.repositoryAccess(bob, { id: 'def456', owner: 'acme', private: true }), 'read');
      });

      it("removes a departing member from the organisation's teams", async () => {
        await accounts.createTeam('acme', { name: 'devs', permission: 'write', includesAllRepositories: true });
        await accounts.addTeamMember('acme', 'devs', 'bob');
        await accounts.removeMember('acme', 'bob');
        assert.deepEqual(await accounts.listTeamMembers('acme', 'devs'), []);
        const bob = (await accounts.getUser('bob'))!;
        assert.equal(await accounts.repositoryAccess(bob, { id: 'r1', owner: 'acme', private: true }), 'none');
      });
    });

    describe('collaborators', () => {
      it('grants, changes, lists and revokes per-repository permissions', async () => {
        const alice = await user('alice');
        const bob = await user('bob');
        await accounts.setCollaborator('repo1', 'Bob', 'write');
        await accounts.setCollaborator('repo1', 'alice', 'read');
        assert.deepEqual(await accounts.listCollaborators('repo1'), [
          { user: alice, permission: 'read' },
          { user: bob, permission: 'write' },
        ]);
        await accounts.setCollaborator('repo1', 'bob', 'admin');
        assert.deepEqual(
          (await accounts.listCollaborators('repo1')).map(({ permission }) => permission),
          ['read', 'admin'],
        );
        assert.deepEqual(await accounts.listCollaborators('repo2'), []);
        await refusedWithoutWrites(() => accounts.setCollaborator('repo1', 'nobody', 'read'), AccountNotFound);
        await refusedWithoutWrites(() => accounts.setCollaborator('repo1', 'bob', 'owner' as 'admin'), InvalidAccountInput);
        await refusedWithoutWrites(() => accounts.setCollaborator('repo 1', 'bob', 'read'), InvalidAccountInput);

        // The other way round: the repositories a user holds a grant on.
        await accounts.setCollaborator('repo2', 'bob', 'read');
        assert.deepEqual(await accounts.listUserCollaborations('BOB'), [
          { repositoryId: 'repo1', permission: 'admin' },
          { repositoryId: 'repo2', permission: 'read' },
        ]);
        assert.deepEqual(await accounts.listUserCollaborations('nobody'), []);
        assert.deepEqual(await accounts.listUserCollaborations('no:body'), [], 'a malformed name names nobody');

        await accounts.removeCollaborator('repo1', 'alice');
        assert.deepEqual(
          (await accounts.listCollaborators('repo1')).map(({ user: u }) => u.name),
          ['bob'],
        );
        assert.deepEqual(await accounts.listUserCollaborations('alice'), []);
        await accounts.removeCollaborator('repo1', 'alice'); // nothing to do
      });

      it('forgets every grant naming a deleted repository', async () => {
        await user('alice');
        const bob = await user('bob');
        await accounts.createOrganization({ name: 'acme', creator: 'alice' });
        await accounts.createTeam('acme', { name: 'devs', permission: 'write' });
        await accounts.addTeamMember('acme', 'devs', 'bob');
        await accounts.addTeamRepository('acme', 'devs', 'gone');
        await accounts.addTeamRepository('acme', 'devs', 'kept');
        await accounts.setCollaborator('gone', 'bob', 'admin');
        await accounts.setCollaborator('kept', 'bob', 'read');

        await accounts.forgetRepository('gone');
        assert.deepEqual(await accounts.listCollaborators('gone'), []);
        assert.deepEqual(await accounts.listTeamRepositories('acme', 'devs'), ['kept']);
        assert.equal((await accounts.listCollaborators('kept')).length, 1);
        const keys = (await opened.kv.scan(ACCOUNTS_SCOPE, '')).map(({ key }) => key);
        assert.deepEqual(
          keys.filter((key) => key.includes('gone')),
          [],
        );
        // A new repository that happened to reuse the id would start without grants.
        assert.equal(await accounts.repositoryAccess(bob, { id: 'gone', owner: 'alice', private: true }), 'none');
      });

      it('forgets only the team grants of a repository that moves to another owner', async () => {
        await user('alice');
        const bob = await user('bob');
        const carol = await user('carol');
        await accounts.createOrganization({ name: 'acme', creator: 'alice' });
        await accounts.createTeam('acme', { name: 'devs', permission: 'write' });
        await accounts.createTeam('acme', { name: 'ops', permission: 'admin' });
        await accounts.addTeamMember('acme', 'devs', 'bob');
        await accounts.addTeamRepository('acme', 'devs', 'moving');
        await accounts.addTeamRepository('acme', 'ops', 'moving');
        await accounts.addTeamRepository('acme', 'devs', 'staying');
        await accounts.setCollaborator('moving', 'carol', 'write');

        await accounts.forgetRepositoryTeams('moving');
        assert.deepEqual(await accounts.listTeamRepositories('acme', 'devs'), ['staying']);
        assert.deepEqual(await accounts.listTeamRepositories('acme', 'ops'), []);
        assert.deepEqual(await accounts.listCollaborators('moving'), [{ user: carol, permission: 'write' }]);
        assert.deepEqual(await accounts.listUserCollaborations('carol'), [{ repositoryId: 'moving', permission: 'write' }]);
        const keys = (await opened.kv.scan(ACCOUNTS_SCOPE, '')).map(({ key }) => key);
        assert.deepEqual(
          keys.filter((key) => key.includes('moving') && key.includes('team')),
          [],
        );
        // Even were it to come back to acme, the teams' old grants would not come back with it.
        assert.equal(await accounts.repositoryAccess(bob, { id: 'moving', owner: 'acme', private: true }), 'read');
        await accounts.forgetRepositoryTeams('moving'); // nothing left to do
        await refusedWithoutWrites(() => accounts.forgetRepositoryTeams('not an id'), InvalidAccountInput);
      });
    });

    describe('repositoryAccess', () => {
      let alice: User, bob: User, carol: User, dave: User, erin: User, frank: User, admin: User, stranger: User;
      const privateOrgRepo: RepositoryRef = { id: 'aa01', owner: 'Acme', private: true };
      const publicOrgRepo: RepositoryRef = { id: 'aa02', owner: 'acme', private: false };
      const otherOrgRepo: RepositoryRef = { id: 'aa03', owner: 'acme', private: true };
      const alicesRepo: RepositoryRef = { id: 'bb01', owner: 'ALICE', private: true };
      const alicesPublicRepo: RepositoryRef = { id: 'bb02', owner: 'alice', private: false };

      beforeEach(async () => {
        [alice, bob, carol, dave, erin, frank, stranger] = await Promise.all(
          ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'stranger'].map((name) => user(name)),
        );
        admin = await user('root', { isAdmin: true });
        await accounts.createOrganization({ name: 'acme', creator: 'alice' }); // alice: owner
        await accounts.setMember('acme', 'bob', 'member'); // bob: plain member
        await accounts.createTeam('acme', { name: 'readers', permission: 'read' });
        await accounts.createTeam('acme', { name: 'writers', permission: 'write' });
        await accounts.createTeam('acme', { name: 'admins', permission: 'admin' });
        await accounts.createTeam('acme', { name: 'everything', permission: 'write', includesAllRepositories: true });
        await accounts.addTeamMember('acme', 'readers', 'carol');
        await accounts.addTeamMember('acme', 'writers', 'dave');
        await accounts.addTeamMember('acme', 'admins', 'erin');
        await accounts.addTeamMember('acme', 'everything', 'frank');
        for (const team of ['readers', 'writers', 'admins']) await accounts.addTeamRepository('acme', team, privateOrgRepo.id);
        await accounts.setCollaborator(alicesRepo.id, 'bob', 'write');
        await accounts.setCollaborator(privateOrgRepo.id, 'carol', 'admin');
      });

      const access = (who: User | undefined, repo: RepositoryRef) => accounts.repositoryAccess(who, repo);

      it('anonymous: read on public repositories, nothing on private ones', async () => {
        assert.equal(await access(undefined, publicOrgRepo), 'read');
        assert.equal(await access(undefined, alicesPublicRepo), 'read');
        assert.equal(await access(undefined, privateOrgRepo), 'none');
        assert.equal(await access(undefined, alicesRepo), 'none');
      });

      it('the owning user, site administrators and organisation owners: admin', async () => {
        assert.equal(await access(alice, alicesRepo), 'admin');
        assert.equal(await access(admin, alicesRepo), 'admin');
        assert.equal(await access(admin, privateOrgRepo), 'admin');
        assert.equal(await access(alice, privateOrgRepo), 'admin');
        assert.equal(await access(alice, otherOrgRepo), 'admin');
      });

      it('organisation members: read on every repository of the organisation', async () => {
        assert.equal(await access(bob, privateOrgRepo), 'read');
        assert.equal(await access(bob, otherOrgRepo), 'read');
        assert.equal(await access(bob, publicOrgRepo), 'read');
      });

      it('teams: their permission on their repositories, all of them when they include all', async () => {
        assert.equal(await access(carol, privateOrgRepo), 'admin'); // team read, but collaborator admin
        assert.equal(await access(dave, privateOrgRepo), 'write');
        assert.equal(await access(dave, otherOrgRepo), 'read'); // only as an organisation member
        assert.equal(await access(erin, privateOrgRepo), 'admin');
        assert.equal(await access(erin, publicOrgRepo), 'read');
        assert.equal(await access(frank, privateOrgRepo), 'write');
        assert.equal(await access(frank, otherOrgRepo), 'write');
        // Team grants only apply to the team's own organisation's repositories.
        assert.equal(await access(frank, { id: 'cc01', owner: 'alice', private: true }), 'none');
        await accounts.removeTeamRepository('acme', 'readers', privateOrgRepo.id);
        await accounts.removeCollaborator(privateOrgRepo.id, 'carol');
        assert.equal(await access(carol, privateOrgRepo), 'read'); // still a member
        await accounts.updateTeam('acme', 'writers', { permission: 'admin' });
        assert.equal(await access(dave, privateOrgRepo), 'admin');
      });

      it('collaborators: their grant, on that repository only', async () => {
        assert.equal(await access(bob, alicesRepo), 'write');
        assert.equal(await access(bob, alicesPublicRepo), 'read');
        assert.equal(await access(carol, alicesRepo), 'none');
      });

      it('strangers: read on public repositories only', async () => {
        assert.equal(await access(stranger, privateOrgRepo), 'none');
        assert.equal(await access(stranger, alicesRepo), 'none');
        assert.equal(await access(stranger, publicOrgRepo), 'read');
        assert.equal(await access(stranger, alicesPublicRepo), 'read');
      });

      it('decides who may create repositories under an owner and administer an organisation', async () => {
        assert.equal(await accounts.mayCreateUnder(alice, 'ALICE'), true);
        assert.equal(await accounts.mayCreateUnder(bob, 'alice'), false);
        assert.equal(await accounts.mayCreateUnder(admin, 'alice'), true);
        assert.equal(await accounts.mayCreateUnder(alice, 'acme'), true);
        assert.equal(await accounts.mayCreateUnder(bob, 'Acme'), true);
        assert.equal(await accounts.mayCreateUnder(dave, 'acme'), true);
        assert.equal(await accounts.mayCreateUnder(stranger, 'acme'), false);
        assert.equal(await accounts.mayCreateUnder(stranger, 'nope nope'), false);

        assert.equal(await accounts.mayAdministerOrganization(alice, 'ACME'), true);
        assert.equal(await accounts.mayAdministerOrganization(admin, 'acme'), true);
        assert.equal(await accounts.mayAdministerOrganization(bob, 'acme'), false);
        assert.equal(await accounts.mayAdministerOrganization(stranger, 'acme'), false);
      });

      it('loses everything a deleted user had, and a new user of that name inherits nothing', async () => {
        await accounts.deleteUser('dave');
        await accounts.deleteUser('bob');
        const keys = (await opened.kv.scan(ACCOUNTS_SCOPE, '')).map(({ key }) => key);
        assert.deepEqual(
          keys.filter((key) => /(^|:)(bob|dave)(:|$)/.test(key)),
          [],
        );
        const newBob = await user('bob');
        assert.equal(await access(newBob, alicesRepo), 'none');
        assert.equal(await access(newBob, privateOrgRepo), 'none');
        assert.equal(await accounts.memberRole('acme', 'bob'), undefined);
        assert.deepEqual(
          (await accounts.listTeamMembers('acme', 'writers')).map((u) => u.name),
          [],
        );
      });

      it('compares levels', () => {
        assert.equal(atLeast('none', 'read'), false);
        assert.equal(atLeast('read', 'read'), true);
        assert.equal(atLeast('read', 'write'), false);
        assert.equal(atLeast('write', 'read'), true);
        assert.equal(atLeast('admin', 'write'), true);
        assert.equal(atLeast('write', 'admin'), false);
      });
    });

    describe('tokens', () => {
      it('creates a token shown once and stored hashed, and authenticates with it', async () => {
        const alice = await user('alice');
        const { token, info } = await accounts.createToken('ALICE', { name: 'laptop git', scopes: ['write:repository', 'read:user'] });
        assert.match(token, /^gf_[0-9A-Za-z]{40}$/);
        assert.deepEqual(info, {
          id: info.id,
          user: 'alice',
          name: 'laptop git',
          scopes: ['write:repository', 'read:user'],
          createdAt: now.toISOString(),
          lastEight: token.slice(-8),
        });
        assert.ok(!(await snapshot(opened.kv)).includes(token));

        const actor = await accounts.authenticateToken(token);
        assert.deepEqual(actor, { user: alice, via: 'token', scopes: ['write:repository', 'read:user'] });
        assert.equal(await accounts.authenticateToken(`${token}x`), undefined);
        assert.equal(await accounts.authenticateToken(''), undefined);
        assert.equal(await accounts.authenticateToken('gf_' + '0'.repeat(40)), undefined);

        const second = await accounts.createToken('alice', { name: 'ci', scopes: ['read:repository'] });
        assert.notEqual(second.token, token);
        assert.deepEqual(
          (await accounts.listTokens('alice')).map((t) => t.name),
          ['laptop git', 'ci'],
        );
        assert.deepEqual(await accounts.listTokens('alice'), [info, second.info]);
      });

      it('refuses duplicate names, bad scopes, past expiries and short secrets, writing nothing', async () => {
        await user('alice');
        await accounts.createToken('alice', { name: 'ci', scopes: ['read:repository'] });
        await refusedWithoutWrites(() => accounts.createToken('alice', { name: 'ci', scopes: ['read:user'] }), AccountConflict);
        await refusedWithoutWrites(
          () => accounts.createToken('alice', { name: 'x', scopes: ['push' as 'read:user'] }),
          InvalidAccountInput,
        );
        await refusedWithoutWrites(() => accounts.createToken('alice', { name: 'x', scopes: [] }), InvalidAccountInput);
        await refusedWithoutWrites(() => accounts.createToken('alice', { name: '', scopes: ['read:user'] }), InvalidAccountInput);
        await refusedWithoutWrites(
          () =>
            accounts.createToken('alice', { name: 'x', scopes: ['read:user'], expiresAt: new Date(now.getTime() - 1000).toISOString() }),
          InvalidAccountInput,
        );
        await refusedWithoutWrites(
          () => accounts.createToken('alice', { name: 'x', scopes: ['read:user'], expiresAt: 'tomorrow' }),
          InvalidAccountInput,
        );
        await refusedWithoutWrites(
          () => accounts.createToken('alice', { name: 'x', scopes: ['read:user'], secret: 'a'.repeat(31) }),
          InvalidAccountInput,
        );
        await refusedWithoutWrites(() => accounts.createToken('nobody', { name: 'x', scopes: ['read:user'] }), AccountNotFound);
        // Another user may use the same name.
        await user('bob');
        await accounts.createToken('bob', { name: 'ci', scopes: ['read:repository'] });
      });

      it('registers a supplied bootstrap secret of at least 32 characters', async () => {
        await user('root', { isAdmin: true });
        const secret = 'bootstrap-secret-0123456789abcdef';
        const { token, info } = await accounts.createToken('root', { name: 'bootstrap', scopes: TOKEN_SCOPES, secret });
        assert.equal(token, secret);
        assert.deepEqual(info.scopes, [...TOKEN_SCOPES]);
        assert.equal((await accounts.authenticateToken(secret))?.user.name, 'root');
        await refusedWithoutWrites(() => accounts.createToken('root', { name: 'again', scopes: ['read:user'], secret }), AccountConflict);
      });

      it('revokes by id or by name', async () => {
        await user('alice');
        await user('bob');
        const one = await accounts.createToken('alice', { name: 'one', scopes: ['read:repository'] });
        const two = await accounts.createToken('alice', { name: 'two', scopes: ['read:repository'] });
        await refusedWithoutWrites(() => accounts.revokeToken('bob', one.info.id), AccountNotFound);
        await refusedWithoutWrites(() => accounts.revokeToken('alice', 'three'), AccountNotFound);
        await refusedWithoutWrites(() => accounts.revokeToken('alice', '999'), AccountNotFound);

        await accounts.revokeToken('alice', one.info.id);
        assert.equal(await accounts.authenticateToken(one.token), undefined);
        assert.ok(await accounts.authenticateToken(two.token));
        await accounts.revokeToken('alice', 'two');
        assert.equal(await accounts.authenticateToken(two.token), undefined);
        assert.deepEqual(await accounts.listTokens('alice'), []);
        await assert.rejects(accounts.revokeToken('alice', 'two'), AccountNotFound);
        // The name is free again.
        await accounts.createToken('alice', { name: 'two', scopes: ['read:repository'] });
      });

      it('stops authenticating once expired, and lists the expired token', async () => {
        await user('alice');
        const expiresAt = new Date(now.getTime() + DAY).toISOString();
        const { token, info } = await accounts.createToken('alice', { name: 'short', scopes: ['read:repository'], expiresAt });
        assert.equal(info.expiresAt, expiresAt);
        assert.ok(await accounts.authenticateToken(token));
        now = new Date(now.getTime() + DAY);
        assert.equal(await accounts.authenticateToken(token), undefined);
        assert.deepEqual(
          (await accounts.listTokens('alice')).map((t) => t.name),
          ['short'],
        );
      });

      it('dies with its user', async () => {
        await user('alice');
        const { token } = await accounts.createToken('alice', { name: 'ci', scopes: ['read:repository'] });
        await accounts.deleteUser('alice');
        assert.equal(await accounts.authenticateToken(token), undefined);
        await assert.rejects(accounts.listTokens('alice'), AccountNotFound);
        await user('alice');
        assert.equal(await accounts.authenticateToken(token), undefined);
        assert.deepEqual(await accounts.listTokens('alice'), []);
      });

      it('checks scopes: a write scope implies its read scope', async () => {
        const someone = await user('alice');
        const actor = (scopes: Actor['scopes']): Actor => ({ user: someone, via: 'token', scopes });
        assert.equal(hasScope(actor('all'), 'write:admin'), true);
        assert.equal(hasScope(actor(['read:repository']), 'read:repository'), true);
        assert.equal(hasScope(actor(['read:repository']), 'write:repository'), false);
        assert.equal(hasScope(actor(['write:repository']), 'read:repository'), true);
        assert.equal(hasScope(actor(['write:repository']), 'read:user'), false);
        assert.equal(hasScope(actor(['write:organization']), 'read:organization'), true);
        assert.equal(hasScope(actor([]), 'read:user'), false);
      });
    });

    describe('sessions', () => {
      it('creates, authenticates, expires and deletes sessions', async () => {
        const alice = await user('alice');
        const session = await accounts.createSession('ALICE');
        assert.equal(session.expiresAt, new Date(now.getTime() + 14 * DAY).toISOString());
        assert.ok(session.cookieValue.length >= 40);
        assert.ok(!(await snapshot(opened.kv)).includes(session.cookieValue));
        assert.deepEqual(await accounts.authenticateSession(session.cookieValue), { user: alice, via: 'session', scopes: 'all' });
        assert.equal(await accounts.authenticateSession('made-up'), undefined);
        assert.equal(await accounts.authenticateSession(''), undefined);

        await accounts.deleteSession(session.cookieValue);
        assert.equal(await accounts.authenticateSession(session.cookieValue), undefined);
        await accounts.deleteSession(session.cookieValue); // signing out twice is harmless

        const short = await accounts.createSession('alice', { ttlMs: 60_000 });
        assert.ok(await accounts.authenticateSession(short.cookieValue));
        now = new Date(now.getTime() + 60_000);
        assert.equal(await accounts.authenticateSession(short.cookieValue), undefined);
        const keys = (await opened.kv.scan(ACCOUNTS_SCOPE, '')).map(({ key }) => key);
        assert.deepEqual(
          keys.filter((key) => key.includes('session')),
          [],
          'the expired session is deleted',
        );

        await refusedWithoutWrites(() => accounts.createSession('nobody'), AccountNotFound);
        await refusedWithoutWrites(() => accounts.createSession('alice', { ttlMs: 0 }), InvalidAccountInput);
      });

      it("drops a user's expired sessions at the next sign-in, and all of them with the user", async () => {
        await user('alice');
        const old = await accounts.createSession('alice', { ttlMs: 1000 });
        now = new Date(now.getTime() + 2000);
        const current = await accounts.createSession('alice');
        const sessionKeys = async () => (await opened.kv.scan(ACCOUNTS_SCOPE, 'session:')).length;
        assert.equal(await sessionKeys(), 1);
        assert.equal(await accounts.authenticateSession(old.cookieValue), undefined);
        await accounts.deleteUser('alice');
        assert.equal(await sessionKeys(), 0);
        assert.equal(await accounts.authenticateSession(current.cookieValue), undefined);
      });

      it('a new password ends every session of the user, and only of that user; tokens stay', async () => {
        await user('alice');
        await user('bob');
        const alices = await Promise.all([accounts.createSession('alice'), accounts.createSession('alice')]);
        const bobs = await accounts.createSession('bob');
        const { token } = await accounts.createToken('alice', { name: 'ci', scopes: ['read:repository'] });

        await accounts.updateUser('alice', { email: 'alice@new.example' });
        for (const session of alices) assert.ok(await accounts.authenticateSession(session.cookieValue), 'other changes keep sessions');

        await accounts.updateUser('ALICE', { password: 'a brand new password' });
        for (const session of alices) assert.equal(await accounts.authenticateSession(session.cookieValue), undefined);
        assert.deepEqual(await opened.kv.scan(ACCOUNTS_SCOPE, 'usersession:alice:'), [], 'no record left behind');
        assert.ok(await accounts.authenticateSession(bobs.cookieValue));
        assert.ok(await accounts.authenticateToken(token));
        assert.ok(await accounts.authenticateSession((await accounts.createSession('alice')).cookieValue), 'signing in again works');
      });

      it('signs in with the right password only; a password changed while it was verified leaves no session', async () => {
        const alice = await user('alice');
        assert.equal(await accounts.signIn('alice', 'wrong password'), undefined);
        assert.equal(await accounts.signIn('nobody', PASSWORD), undefined);
        const signedIn = await accounts.signIn('ALICE', PASSWORD, { ttlMs: 60_000 });
        assert.deepEqual(signedIn?.user, alice);
        assert.equal(signedIn?.expiresAt, new Date(now.getTime() + 60_000).toISOString());
        assert.ok(await accounts.authenticateSession(signedIn.cookieValue));

        // The old password is verified; the new one lands before the session is made.
        let changeDuringVerify: (() => Promise<unknown>) | undefined;
        const racing = new AccountStore(opened.kv, {
          passwordHasher: {
            hash: (password) => hasher.hash(password),
            async verify(hash, password) {
              const matches = await hasher.verify(hash, password);
              await changeDuringVerify?.();
              return matches;
            },
          },
          clock: () => now,
        });
        changeDuringVerify = () => accounts.updateUser('alice', { password: 'changed meanwhile' });
        assert.equal(await racing.signIn('alice', PASSWORD), undefined);
        changeDuringVerify = undefined;
        assert.deepEqual(await opened.kv.scan(ACCOUNTS_SCOPE, 'usersession:alice:'), [], 'no session of the old password');
      });
    });
  });
}
