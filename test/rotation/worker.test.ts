import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcSeed } from '../seed.js';
import { AuthenticationFailed, CommandFailed, PermissionDenied, TransportError, UnexpectedAnswer, type DirectAdminError } from '../../src/directadmin/index.js';
import type { Credential, CredentialKind, KindContext } from '../../src/kinds/index.js';
import { accountPassword } from '../../src/kinds/account-password.js';
import { SecretRegistry } from '../../src/log.js';
import { backoffDelay } from '../../src/rotation/retry.js';
import { changeCredential, type WorkerContext } from '../../src/rotation/worker.js';

const PW = 'NewPassw0rd1234567890A';
const CMD = 'CMD_API_USER_PASSWD';
const fred: Credential = { kind: 'account', owner: 'fred', name: 'fred' };

const reset = () => new TransportError(CMD, 'ECONNRESET', true);
const refused = () => new TransportError(CMD, 'ECONNREFUSED', false);
const empty = () => new UnexpectedAnswer(CMD, 200, 'empty answer');
const e500 = () => new UnexpectedAnswer(CMD, 500, 'server error');
const unchanged = () => new CommandFailed(CMD, 'Cannot change password', "New password isn't different");

type Write = 'ok' | 'applied-lost' | DirectAdminError;
type Read = boolean | DirectAdminError;

/** A fake server behind a fake kind: a script of answers, and the secret that is live at the end. */
function fakeKind(writes: Write[], reads: Read[] = [], opts: { check?: boolean; revoke?: boolean } = {}) {
  const server = { live: 'OldPassword1', sent: [] as Array<string | undefined>, checks: 0 };
  const kind: CredentialKind = {
    name: 'account',
    action: opts.revoke ? 'revoke' : 'change',
    commands: [CMD],
    requests: accountPassword.requests,
    list: async () => [fred],
    async apply(_ctx, _c, secret) {
      server.sent.push(secret);
      const next = writes.shift() ?? 'ok';
      if (next === 'ok') {
        server.live = secret ?? 'gone';
        return;
      }
      if (next === 'applied-lost') {
        server.live = secret ?? 'gone';
        throw reset();
      }
      throw next;
    },
    provesDone: (e) => e instanceof CommandFailed && /isn't different/.test(e.details),
  };
  if (opts.check !== false) {
    kind.check = async (_ctx, _c, secret) => {
      server.checks++;
      const next = reads.shift();
      if (next === undefined) return server.live === (secret ?? 'gone');
      if (typeof next === 'boolean') return next;
      throw next;
    };
  }
  return { server, kind };
}

function context(kind: CredentialKind, extra: Partial<WorkerContext> = {}): WorkerContext {
  return {
    kind,
    kctx: {} as KindContext,
    secrets: new SecretRegistry(),
    retries: 3,
    retryDelayMs: 1,
    signal: new AbortController().signal,
    sleep: async () => undefined,
    ...extra,
  };
}

describe('changeCredential', { timeout: 20_000 }, () => {
  it('settles an empty answer after apply by a proving read, without resending', async () => {
    const { server, kind } = fakeKind([empty()], [true]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(o.status, 'rotated');
    assert.equal(o.verified, true);
    assert.deepEqual(server.sent, [PW]);
  });

  it('resends the same secret after a lost answer when the read says it is not live', async () => {
    const { server, kind } = fakeKind([reset(), 'ok'], [false]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(o.status, 'rotated');
    assert.equal(o.attempts, 2);
    assert.deepEqual(server.sent, [PW, PW]);
  });

  it('ends unknown with its secret when a lost answer cannot be settled', async () => {
    const down = new TransportError('CMD_API_VERIFY_PASSWORD', 'ECONNREFUSED', false);
    const { kind } = fakeKind(['applied-lost'], [down, down, down, down]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(o.status, 'unknown');
    assert.equal(o.secret, PW);
  });

  it('a lying "not live" read, then "isn\'t different": rotated and proved, secret kept (suspended accounts)', async () => {
    const { server, kind } = fakeKind(['applied-lost', unchanged()], [false]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(server.live, PW);
    assert.equal(o.status, 'rotated');
    assert.equal(o.verified, true);
    assert.equal(o.secret, PW);
  });

  it('a lost answer then any other refusal ends unknown with the secret, never failed', async () => {
    const { server, kind } = fakeKind(['applied-lost', new CommandFailed(CMD, 'Cannot change password', 'Unable to change password')], [false]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(server.live, PW);
    assert.equal(o.status, 'unknown');
    assert.equal(o.secret, PW);
  });

  it('without a proving read, settles a lost answer by resending: "isn\'t different" proves it', async () => {
    const { server, kind } = fakeKind(['applied-lost', unchanged()], [], { check: false });
    const o = await changeCredential(context(kind), fred, PW);
    assert.deepEqual(server.sent, [PW, PW]);
    assert.equal(o.status, 'rotated');
    assert.equal(o.verified, true);
  });

  it('never resends an answer marked not retryable (a 4xx)', async () => {
    const { server, kind } = fakeKind([new UnexpectedAnswer(CMD, 404, 'not found')], [false], { check: false });
    const o = await changeCredential(context(kind), fred, PW);
    assert.deepEqual(server.sent, [PW]);
    assert.equal(o.status, 'unknown', 'a 4xx may have been written: kept, not failed');
    assert.equal(o.secret, PW);
  });

  it('a refusal before anything applied is failed, without the secret, and classified when systematic', async () => {
    const policy = new CommandFailed(
      CMD,
      'Unable to satisfy difficult password check.',
      'Password must have at least one special character such as !@#%$ etc..',
    );
    const { kind } = fakeKind([policy]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(o.status, 'failed');
    assert.equal(o.secret, undefined);
    assert.match(o.refusal?.fix ?? '', /--symbols/);
  });

  it('an authentication failure is fatal and not resent: failed for the whole run (sent, nothing applied; a resume does it again)', async () => {
    const { server, kind } = fakeKind([new AuthenticationFailed(CMD, 'login-page')]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(o.status, 'failed');
    assert.equal(o.wholeRun, true);
    assert.equal(o.secret, undefined);
    assert.equal(o.attempts, 1);
    assert.ok(o.fatal);
    assert.equal(server.sent.length, 1);
  });

  it('a stop during the backoff sends nothing more', async () => {
    const stop = new AbortController();
    const { server, kind } = fakeKind([refused(), 'ok']);
    const o = await changeCredential(context(kind, { sleep: async () => stop.abort(), signal: stop.signal }), fred, PW);
    assert.deepEqual(server.sent, [PW], 'one write, none after the stop');
    assert.equal(o.status, 'not-sent');
  });

  it('a stop after a possibly applied attempt ends unknown with the secret', async () => {
    const stop = new AbortController();
    const { kind } = fakeKind(['applied-lost'], [new TransportError('CMD_API_VERIFY_PASSWORD', 'ECONNREFUSED', false)]);
    const o = await changeCredential(context(kind, { sleep: async () => stop.abort(), signal: stop.signal }), fred, PW);
    assert.equal(o.status, 'unknown');
    assert.equal(o.secret, PW);
  });

  it('a revocation answered "already gone" is revoked', async () => {
    const gone = new CommandFailed('/api/login-keys/keys', 'NOT_FOUND', '');
    const { kind } = fakeKind([gone], [], { revoke: true, check: false });
    kind.provesDone = (e) => e instanceof CommandFailed && e.text === 'NOT_FOUND';
    const o = await changeCredential(context(kind), { kind: 'login-key', owner: 'fred', name: 'k1' }, undefined);
    assert.equal(o.status, 'revoked');
    assert.equal(o.verified, true);
  });

  it('retries 5xx with the same secret and stops at the budget', async () => {
    const { server, kind } = fakeKind([e500(), e500(), e500(), e500(), e500()], [false, false, false, false, false]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(server.sent.length, 4, '1 + 3 retries');
    assert.ok(server.sent.every((p) => p === PW));
    assert.equal(o.status, 'unknown', 'a 5xx from a proxy may hide an applied change');
  });
});

describe('the outcome rule, over arbitrary server behaviour', { timeout: 60_000 }, () => {
  // Each write: applied or not, answer seen or lost/empty/5xx/refused; each read: truthful, lying "not live", or failing.
  const writeArb = fc.constantFrom<'ok' | 'lost-applied' | 'lost-not-applied' | 'empty-applied' | '500-not-applied' | '500-applied' | 'refused' | 'auth'>(
    'ok',
    'lost-applied',
    'lost-not-applied',
    'empty-applied',
    '500-not-applied',
    '500-applied',
    'refused',
    'auth',
  );
  const readArb = fc.constantFrom<'truth' | 'lie' | 'error'>('truth', 'lie', 'error');
  const seed = fcSeed(20261129);

  it(`rotated only when live, failed only when nothing applied, the secret kept whenever it may be live (FC_SEED=${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(writeArb, { maxLength: 8 }),
        fc.array(readArb, { maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async (writes, reads, hasCheck, acceptUnchanged) => {
          let live = 'OldPassword1';
          const kind: CredentialKind = {
            name: 'account',
            action: 'change',
            commands: [CMD],
            requests: accountPassword.requests,
            list: async () => [fred],
            async apply(_c, _cr, secret) {
              // A real server refuses an unchanged password unless told to accept it.
              if (live === secret && !acceptUnchanged) throw unchanged();
              const w = writes.shift() ?? 'ok';
              if (w === 'refused') throw new CommandFailed(CMD, 'Cannot change password', 'Unable to change password');
              if (w === 'auth') throw new AuthenticationFailed(CMD, 'login-page');
              if (w.endsWith('-applied') || w === 'ok') live = secret!;
              if (w === 'ok') return;
              if (w.startsWith('lost')) throw reset();
              if (w.startsWith('empty')) throw empty();
              throw e500();
            },
            provesDone: (e) => e instanceof CommandFailed && /isn't different/.test(e.details),
          };
          if (hasCheck) {
            kind.check = async (_c, _cr, secret) => {
              const r = reads.shift() ?? 'truth';
              if (r === 'error') throw new TransportError('CMD_API_VERIFY_PASSWORD', 'ECONNRESET', true);
              if (r === 'lie') return false;
              return live === secret;
            };
          }
          const o = await changeCredential(context(kind), fred, PW);
          if (live === PW) {
            assert.ok(o.status === 'rotated' || o.status === 'unknown', `live but ${o.status}`);
            assert.equal(o.secret, PW);
          }
          if (o.status === 'rotated') assert.equal(live, PW, 'rotated means live');
          if (o.status === 'failed' || o.status === 'not-sent') assert.notEqual(live, PW, `${o.status} but live`);
        },
      ),
      { seed, numRuns: 500 },
    );
  });
});

describe('backoffDelay', { timeout: 30_000 }, () => {
  it('doubles up to 30 s, with jitter in the upper half', (t) => {
    // Math.random pinned at both ends: each retry's range is exactly [cap/2, cap], cap = min(30 s, base x 2^(retry-1)).
    for (const r of [0, 0.999999]) {
      t.mock.method(Math, 'random', () => r);
      for (let retry = 1; retry <= 12; retry++) {
        const cap = Math.min(30_000, 500 * 2 ** (retry - 1));
        assert.equal(backoffDelay(500, retry), Math.round(r === 0 ? cap / 2 : cap / 2 + 0.999999 * (cap / 2)), `retry ${retry}`);
      }
      t.mock.restoreAll();
    }
    // Every level doubles the one before until the cap.
    t.mock.method(Math, 'random', () => 0);
    const lows = Array.from({ length: 10 }, (_, i) => backoffDelay(500, i + 1));
    assert.deepEqual(lows, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000, 15000]);
  });
});

describe('permission refusals and suspended answers (issue 26)', () => {
  const denied = () => new PermissionDenied(CMD, 'Forbidden', '', 'http-403');
  const stillSuspended = () => new CommandFailed(CMD, 'User password changed, however the account is still suspended', '');

  it('a change refused to this login fails, names the line to add and asks its kind to stop, never as a systematic halt', async () => {
    const { server, kind } = fakeKind([denied()]);
    const o = await changeCredential(context(kind), fred, PW);
    assert.equal(o.status, 'failed');
    assert.equal(o.secret, undefined);
    assert.deepEqual(o.stop && [o.stop.kind, o.stop.reason, o.stop.missing], ['account', 'permission', CMD]);
    assert.equal(o.refusal, undefined);
    assert.equal(server.sent.length, 1, 'not sent again');
  });

  it('a proving read refused to this login is not asked again: the change is settled by resending', async () => {
    const { server, kind } = fakeKind(['applied-lost', 'ok', 'applied-lost', 'ok'], [denied()]);
    const ctx = context(kind);
    const a = await changeCredential(ctx, fred, PW);
    assert.equal(a.status, 'rotated');
    assert.equal(server.checks, 1);
    assert.equal(ctx.checkDenied, true);
    const b = await changeCredential(ctx, { ...fred, name: 'bob', owner: 'bob' }, PW);
    assert.equal(b.status, 'rotated');
    assert.equal(server.checks, 1, 'no second read of a refused kind');
    assert.equal(server.sent.length, 4);
  });

  it('"changed, however the account is still suspended" with error=1 is applied: proved rotated, or unknown with its secret, never failed', async () => {
    const proved = fakeKind([stillSuspended()], [true]);
    const p = await changeCredential(context(proved.kind), fred, PW);
    assert.deepEqual([p.status, p.verified, p.secret], ['rotated', true, PW]);
    const unproved = fakeKind([stillSuspended(), stillSuspended(), stillSuspended()], [false, false, false], {});
    const u = await changeCredential(context(unproved.kind, { retries: 2 }), fred, PW);
    assert.deepEqual([u.status, u.secret], ['unknown', PW]);
    const noRead = fakeKind([stillSuspended(), unchanged()], [], { check: false });
    const n = await changeCredential(context(noRead.kind), fred, PW);
    assert.deepEqual([n.status, n.verified, n.secret], ['rotated', true, PW], 'the resend\'s "isn\'t different" proves it');
  });
});
