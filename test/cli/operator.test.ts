// Units behind the operator's experience: text log lines, wrapped lists, the prompt, the scope's
// coverage lines, key uses, the generated symbol set, secret-file errors, prune's grouping.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, SecretRegistry } from '../../src/log.js';
import { confirmQuestion, coverageLines, formatVerify, msg, wrapNames } from '../../src/messages.js';
import { keyScope, keyUses } from '../../src/rotation/key-scope.js';
import { GENERATED_SYMBOLS, generatePassword, policyViolation } from '../../src/rotation/password.js';
import { readSecretFile, resolveConnection, resolveSelection, resolveWork } from '../../src/options.js';
import { logSettings } from '../../src/app.js';
import { enumerateAccounts } from '../../src/rotation/enumerate.js';
import { findRuns, prune } from '../../src/rotation/prune.js';

function textLogger(level: 'info' | 'warn', secrets = new SecretRegistry()) {
  let out = '';
  const destination = new Writable({
    write(chunk, _e, cb) {
      out += String(chunk);
      cb();
    },
  });
  return { log: createLogger({ level, secrets, destination, format: 'text' }), text: () => out };
}

describe('text log lines', { timeout: 10_000 }, () => {
  it('read "level: message (fields)", scrub secrets, and honour the level', () => {
    const secrets = new SecretRegistry();
    secrets.add('s3cret-value');
    const { log, text } = textLogger('warn', secrets);
    log.info('hidden');
    log.warn({ server: 'https://h:2222', n: 3, note: 'has s3cret-value' }, 'slow server');
    log.error(new Error('boom s3cret-value'));
    log.warn({ err: new Error('inner'), password: 'pw' }, 'failed');
    assert.equal(
      text(),
      'warn: slow server (server=https://h:2222, n=3, note="has [REDACTED]")\n' +
        'error: boom [REDACTED]\n' +
        'warn: failed (err=inner, password=[REDACTED])\n',
    );
  });

  it('defaults: text at warn on a terminal, JSON at info elsewhere, errors only with --quiet', () => {
    assert.deepEqual(logSettings({}, true), { level: 'warn', format: 'text' });
    assert.deepEqual(logSettings({}, false), { level: 'info', format: 'json' });
    assert.deepEqual(logSettings({ quiet: true }, true), { level: 'error', format: 'text' });
    assert.deepEqual(logSettings({ 'log-level': 'debug', 'log-format': 'json' }, true), { level: 'debug', format: 'json' });
  });
});

describe('long lists', { timeout: 10_000 }, () => {
  it('are wrapped to the width and cut after 40 names with a count', () => {
    const names = Array.from({ length: 45 }, (_, i) => `user${String(i).padStart(5, '0')}`);
    const lines = wrapNames(names, '  ', 40);
    assert.equal(lines[0], '  user00000, user00001, user00002,');
    assert.equal(lines.at(-1), '  ... and 5 more (--json lists them all)');
    for (const l of lines) assert.ok(l.length <= 40, l);
    assert.deepEqual(wrapNames(['a', 'b'], '    '), ['    a, b']);
  });

  it('verify prints counts, the report on its own line, and the wrapped drift', () => {
    const text = formatVerify({
      checked: 3,
      report: '/r.csv',
      server: 'https://h:2222',
      matching: 1,
      drift: ['bob', 'eve'],
      errors: [{ username: 'zed', error: 'timeout' }],
    });
    assert.equal(
      text,
      'Verified 3 rotated account(s) on https://h:2222: 1 match, 2 drifted, 1 not checkable\n' +
        '  report: /r.csv\n' +
        '  drift (password changed since the rotation), 2 account(s):\n' +
        '    bob, eve\n' +
        '  zed: timeout\n',
    );
  });
});

describe('the confirmation prompt', { timeout: 10_000 }, () => {
  it('shows the breakdown by kind and account type and where the report goes', () => {
    const q = confirmQuestion({
      server: 'https://h:2222',
      user: 'admin',
      credentials: [
        { kind: 'account', owner: 'bob' },
        { kind: 'email', owner: 'bob' },
        { kind: 'email', owner: 'bob' },
        { kind: 'account', owner: 'res1' },
      ],
      types: new Map([
        ['bob', 'user'],
        ['res1', 'reseller'],
      ]),
      report: '/out/r.csv',
      encrypted: false,
    });
    assert.equal(
      q,
      'About to change 4 credential(s) of 2 account(s) on https://h:2222 (logged in as admin).\n' +
        '  by kind: 2 account passwords, 2 mailbox passwords\n' +
        '  accounts: 1 user(s), 1 reseller(s), 0 admin(s)\n' +
        '  the report with the new secrets goes to /out/r.csv\n' +
        'Type "yes" to go on: ',
    );
  });

  it('keeps the account-only wording', () => {
    const q = confirmQuestion({ server: 's', user: 'a', credentials: [{ kind: 'account', owner: 'x' }], report: '/o', encrypted: true });
    assert.equal(
      q,
      'About to change the passwords of 1 account(s) on s (logged in as a).\n  the report (encrypted) with the new secrets goes to /o\nType "yes" to go on: ',
    );
  });
});

describe('what the scope covers', { timeout: 10_000 }, () => {
  const reader = {
    loginTest: async () => ({ text: 'Login OK', details: '' }),
    showUsers: async (r?: string) => (r === undefined ? ['u1', 'u2'] : r === 'res1' ? ['r1u1'] : []),
    showAllUsers: async () => ['u1', 'u2', 'r1u1'],
    showResellers: async () => ['res1', 'res2'],
    showAdmins: async () => ['admin', 'admin2'],
    verifyPassword: async () => false,
  };
  const calls = () => {
    const asked: string[] = [];
    const r = Object.fromEntries(
      Object.entries(reader).map(([k, f]) => [k, (...a: unknown[]) => (asked.push(k), (f as (...x: unknown[]) => unknown)(...a))]),
    ) as unknown as typeof reader;
    return { r, asked };
  };

  it('scope users asks only SHOW_USERS unless --count-all, and says what it did not count', async () => {
    const { r, asked } = calls();
    const s = await enumerateAccounts(r, { scope: 'users', self: 'admin', exclude: [], only: undefined });
    assert.deepEqual(asked, ['showUsers']);
    assert.deepEqual(s.coverage, { scope: 'users', listed: 2, counted: false });
    assert.equal(
      coverageLines(s.coverage, 'admin')[0],
      '  scope users: the 2 account(s) admin owns; NOT COUNTED: users of resellers, resellers and admins (--scope users never lists them).',
    );
  });

  it('--count-all counts each type and what is left out; a missing --only name says whose it is', async () => {
    const s = await enumerateAccounts(reader, { scope: 'users', self: 'admin', exclude: [], only: ['r1u1', 'res2', 'ghost'], countAll: true });
    assert.deepEqual(s.coverage, {
      scope: 'users',
      listed: 2,
      counted: true,
      server: { user: 3, reseller: 2, admin: 2 },
      leftOut: { user: 1, reseller: 2, admin: 2 },
    });
    assert.deepEqual(s.missingWhere, [
      { username: 'r1u1', type: 'user', owner: 'res1', scope: 'all' },
      { username: 'res2', type: 'reseller', scope: 'all' },
    ]);
    assert.equal(
      msg.onlyMissing(s.missing, 'users', 'admin', s.missingWhere),
      "--only/--users-file names 3 account(s) that are not among admin's own users (--scope users): r1u1 (a user of reseller res1: --scope all reaches it), res2 (a reseller: --scope all reaches it), ghost; an account of a reseller, a reseller or an admin needs --scope all (--count-all says whose it is); else fix the list (nothing was changed)",
    );
  });

  it('scope all leaves nothing out and counts every type once', async () => {
    const s = await enumerateAccounts(reader, { scope: 'all', self: 'admin', exclude: [], only: undefined });
    assert.deepEqual(s.coverage, {
      scope: 'all',
      listed: 7,
      counted: true,
      server: { user: 3, reseller: 2, admin: 2 },
      leftOut: { user: 0, reseller: 0, admin: 0 },
    });
    assert.deepEqual(s.selected, ['admin2', 'r1u1', 'res1', 'res2', 'u1', 'u2']);
  });
});

describe('flags', { timeout: 10_000 }, () => {
  it('key uses: at least listing + accounts; the allow-list follows --count-all', () => {
    const u = keyUses({ scope: 'users', accounts: 100 });
    assert.deepEqual(
      { listing: u.listing, changes: u.changes, minimum: u.minimum, recommended: u.recommended, assumed: u.assumed },
      { listing: 2, changes: 100, minimum: 102, recommended: 213, assumed: [] },
    );
    assert.equal(u.formula, '2 + accounts at least; 2 + 2 x accounts + 11 leaves room for retries and proofs');
    assert.equal(keyUses({ scope: 'users', countAll: true, accounts: 1 }).minimum, 6);
    assert.equal(keyUses({ scope: 'all', accounts: 1 }).minimum, 6, 'one reseller assumed');
    assert.equal(keyUses({ scope: 'all', accounts: 1, expect: new Map([['resellers', 0]]) }).minimum, 5);
    // A sweep counts each kind's reads and changes from what the kind module states it sends.
    const sweep = keyUses({
      scope: 'users',
      accounts: 10,
      include: ['email', 'ftp'],
      expect: new Map([
        ['domains', 15],
        ['email', 40],
        ['ftp', 5],
      ]),
    });
    assert.deepEqual(sweep.kinds, [
      { kind: 'email', count: 40, reads: 15, changes: 40 },
      { kind: 'ftp', count: 5, reads: 15 + 5, changes: 5 },
    ]);
    assert.equal(sweep.minimum, 2 + 10 + 15 + 40 + 20 + 5);
    assert.ok(keyScope({ scope: 'users', countAll: true }).commands.includes('CMD_API_SHOW_ADMINS'));
    assert.ok(!keyScope({ scope: 'users' }).commands.includes('CMD_API_SHOW_ADMINS'));
  });

  it('--concurrency: a word is named, not NaN; not given is 8; --exclude needs a value', () => {
    assert.throws(() => resolveWork({ concurrency: 'abc' }), { message: '--concurrency must be a whole number from 1 to 64, or auto (got "abc")' });
    assert.throws(() => resolveWork({ concurrency: '0' }), { message: '--concurrency must be a whole number from 1 to 64, or auto (got "0")' });
    assert.throws(() => resolveWork({ retries: NaN }), { message: '--retries must be a number from 0 to 10 (a word that is not a number was given)' });
    assert.equal(resolveWork({}).concurrency, 8);
    assert.throws(() => resolveSelection({ exclude: [] }), { message: '--exclude needs a value (e.g. --exclude NAME); give one or leave the flag out' });
  });

  it('--insecure with --fingerprint is refused', async () => {
    await assert.rejects(
      resolveConnection(
        { server: 'https://h:2222', user: 'admin', insecure: true, fingerprint: 'AB'.repeat(32) },
        { env: { DA_PASSWORD: 'pw-123456' }, stdin: process.stdin },
      ),
      { message: '--insecure turns certificate checks off and --fingerprint pins the certificate: give only --fingerprint (nothing was sent)' },
    );
  });

  it('generated symbols are only - _ . (URL-unreserved, shell-safe); the shared password may use the wider set', () => {
    assert.equal(GENERATED_SYMBOLS, '-_.');
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) for (const c of generatePassword({ length: 30, symbols: true })) if (!/[A-Za-z0-9]/.test(c)) seen.add(c);
    assert.deepEqual([...seen].sort(), ['-', '.', '_']);
    assert.equal(policyViolation('Abcdefgh123!', { length: 12, symbols: true }), undefined);
  });

  it('a secret file that is a directory or missing says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-rotate-secret-'));
    try {
      assert.throws(() => readSecretFile(dir, '--password-file'), {
        message: `--password-file: ${dir} is a directory: give the file that holds the secret (nothing was sent)`,
      });
      assert.throws(() => readSecretFile(join(dir, 'x'), '--password-file'), {
        message: `--password-file: ${join(dir, 'x')} does not exist: check the path (nothing was sent)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('max-failures says in-flight changes may raise the count', () => {
    assert.equal(
      msg.maxFailures(3, 2),
      'stopped after 3 failed or unknown credential(s) (--max-failures); 2 change(s) already in flight were let finish, so the final count can be higher',
    );
  });
});

describe('prune', { timeout: 10_000 }, () => {
  it('groups runs by default name only and keeps the newest N of each server and kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-rotate-prune-'));
    try {
      const names = [
        'plan-h_2222-20260101T000000.000Z.csv',
        'plan-h_2222-20260102T000000.000Z.csv',
        'plan-h_2222-20260102T000000.000Z-2.csv',
        'plan-g_2222-20260101T000000.000Z.csv',
        'rotation-h_2222-20260101T000000.000Z.csv.age',
        'mine.csv',
        'notes.txt',
      ];
      for (const n of names) writeFileSync(join(dir, n), 'x');
      mkdirSync(join(dir, 'plan-h_2222-20250101T000000.000Z.csv'));
      assert.equal(findRuns(dir).length, 5);
      const dry = await prune({ dir, keep: 1, delete: false });
      assert.deepEqual(
        dry.removed.map((f) => f.slice(dir.length + 1)),
        ['plan-h_2222-20260101T000000.000Z.csv', 'plan-h_2222-20260102T000000.000Z.csv'],
      );
      assert.equal(readdirSync(dir).length, 8);
      const aged = await prune({ dir, keep: 0, olderThanMs: 86_400_000, delete: true, now: Date.parse('2026-01-02T12:00:00Z') });
      assert.deepEqual(
        aged.removed.map((f) => f.slice(dir.length + 1)),
        ['plan-g_2222-20260101T000000.000Z.csv', 'plan-h_2222-20260101T000000.000Z.csv', 'rotation-h_2222-20260101T000000.000Z.csv.age'],
      );
      assert.deepEqual(readdirSync(dir).sort(), [
        'mine.csv',
        'notes.txt',
        'plan-h_2222-20250101T000000.000Z.csv',
        'plan-h_2222-20260102T000000.000Z-2.csv',
        'plan-h_2222-20260102T000000.000Z.csv',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never deletes a journal it cannot read, nor its report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-rotate-prune-'));
    try {
      writeFileSync(join(dir, 'rotation-h_2222-20260101T000000.000Z.csv'), 'x');
      writeFileSync(join(dir, 'rotation-h_2222-20260101T000000.000Z.journal.jsonl'), '{"t":"header"');
      const r = await prune({ dir, keep: 0, delete: true });
      assert.deepEqual(r.removed, []);
      assert.equal(r.protected.length, 1);
      assert.match(r.protected[0]!.why, /^it cannot be read/);
      assert.equal(readdirSync(dir).length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
