import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { enumerateAccounts, globToRegExp, isValidUsername, selectAccounts } from '../../src/rotation/enumerate.js';

describe('isValidUsername', { timeout: 30_000 }, () => {
  it('accepts DirectAdmin names only', () => {
    for (const ok of ['a', 'fred', 'user00001', 'a'.repeat(32)]) assert.equal(isValidUsername(ok), true, ok);
    for (const bad of [
      '',
      'Fred',
      '1abc',
      'a'.repeat(33),
      'a&b',
      'a=b',
      'a%b',
      'a|b',
      'a:b',
      'a/b',
      '..',
      'a b',
      'a\nb',
      'a\u0000',
      'héllo',
      '=cmd',
      '+x',
      '-x',
      '@x',
      'a_b',
      'a.b',
      'a-b',
    ]) {
      assert.equal(isValidUsername(bad), false, JSON.stringify(bad));
    }
  });
});

describe('globToRegExp', { timeout: 30_000 }, () => {
  it('supports * and ? and nothing else', () => {
    assert.ok(globToRegExp('test*').test('test42'));
    assert.ok(globToRegExp('u?er').test('user'));
    assert.ok(!globToRegExp('a.c').test('abc'));
    assert.ok(!globToRegExp('test').test('test2'));
  });
});

describe('selectAccounts', { timeout: 30_000 }, () => {
  const base = { scope: 'users' as const, self: 'admin', exclude: [] as string[], only: undefined as string[] | undefined };

  it('skips the account it logs in as, both parts of a login-as name', () => {
    const s = selectAccounts(['admin', 'fred', 'bob'], { ...base, self: 'admin|fred' });
    assert.deepEqual(s.selected, ['bob']);
    assert.deepEqual(
      s.skipped.map((x) => x.username),
      ['admin', 'fred'],
    );
  });

  it('lets --exclude win over --only, dedupes and sorts', () => {
    const s = selectAccounts(['zed', 'bob', 'bob', 'test1', 'amy'], { ...base, exclude: ['test*'], only: ['bob', 'test1', 'zed'] });
    assert.deepEqual(s.selected, ['bob', 'zed']);
    assert.deepEqual(s.skipped, [{ username: 'test1', reason: 'excluded by --exclude' }]);
    assert.deepEqual(s.missing, []);
  });

  it('reports names given with --only that the server does not list', () => {
    assert.deepEqual(selectAccounts(['bob'], { ...base, only: ['bob', 'ghost'] }).missing, ['ghost']);
  });

  it('never selects a name that is not a DirectAdmin username', () => {
    const hostile = ['a&b', '=HYPERLINK("x")', 'x y', '../etc', 'ünï', 'a\nb'];
    const s = selectAccounts(['fred', ...hostile], base);
    assert.deepEqual(s.selected, ['fred']);
    assert.equal(s.skipped.length, hostile.length);
    for (const k of s.skipped) assert.match(k.reason, /not a valid DirectAdmin username/);
  });
});

describe('enumerateAccounts', { timeout: 30_000 }, () => {
  const reader = {
    loginTest: async () => ({ text: 'Login OK', details: '' }),
    showUsers: async (r?: string) => (r === undefined ? ['u1', 'u2'] : r === 'res1' ? ['r1u1', 'u2'] : []),
    showAllUsers: async () => ['u1', 'u2', 'r1u1'],
    showResellers: async () => ['res1', 'res2'],
    showAdmins: async () => ['admin', 'admin2'],
    verifyPassword: async () => false,
  };

  it("scope users lists only the caller's own users", async () => {
    assert.deepEqual((await enumerateAccounts(reader, { scope: 'users', self: 'admin', exclude: [], only: undefined })).selected, ['u1', 'u2']);
  });

  it('scope all is the deduplicated union of users, resellers, their users and admins, minus self', async () => {
    const s = await enumerateAccounts(reader, { scope: 'all', self: 'admin', exclude: [], only: undefined });
    assert.deepEqual(s.selected, ['admin2', 'r1u1', 'res1', 'res2', 'u1', 'u2']);
    assert.deepEqual(
      s.skipped.map((k) => k.username),
      ['admin'],
    );
  });
});
