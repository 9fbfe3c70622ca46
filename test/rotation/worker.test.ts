import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthenticationFailed,
  CommandFailed,
  TransportError,
  UnexpectedAnswer,
  type DirectAdminError,
} from '../../src/directadmin/index.js';
import { SecretRegistry } from '../../src/log.js';
import { JournalWriter } from '../../src/rotation/journal.js';
import { rotateAccount, backoffDelay, type WorkerContext } from '../../src/rotation/worker.js';
import { readFileSync } from 'node:fs';

let dir = '';
let n = 0;
before(() => (dir = mkdtempSync(join(tmpdir(), 'da-rotate-worker-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fake server: a script of answers for writes and reads, and the live password it ends with. */
function fakeServer(writes: Array<'ok' | DirectAdminError | ((pw: string) => DirectAdminError)>, reads: Array<boolean | DirectAdminError> = []) {
  const state = { live: 'OldPassword1', sent: [] as string[], verified: [] as string[], log: [] as string[] };
  return {
    state,
    writer: {
      async changePassword(_u: string, pw: string) {
        state.sent.push(pw);
        state.log.push('write');
        const next = writes.shift() ?? 'ok';
        if (next === 'ok') {
          state.live = pw;
          return { text: 'Password Changed', details: '' };
        }
        const err = typeof next === 'function' ? next(pw) : next;
        if (err.mayHaveWritten && err.kind !== 'command') state.live = pw; // the fake applies it anyway
        throw err;
      },
    },
    verifier: {
      async verifyPassword(_u: string, pw: string) {
        state.verified.push(pw);
        state.log.push('verify');
        const next = reads.shift();
        if (next === undefined) return state.live === pw;
        if (typeof next === 'boolean') return next;
        throw next;
      },
    },
  };
}

async function context(server: ReturnType<typeof fakeServer>, extra: Partial<WorkerContext> = {}) {
  const path = join(dir, `j${n++}.jsonl`);
  const journal = await JournalWriter.create(path);
  const original = journal.append.bind(journal);
  journal.append = (rec, durable) => {
    server.state.log.push(rec.t === 'intent' ? 'intent' : rec.t);
    return original(rec, durable);
  };
  const ctx: WorkerContext = {
    writer: server.writer,
    verifier: server.verifier,
    journal,
    secrets: new SecretRegistry(),
    retries: 3,
    retryDelayMs: 1,
    stopping: () => false,
    sleep: async () => undefined,
    ...extra,
  };
  return { ctx, path, journal };
}

const PW = 'NewPassw0rd1234567890A';

describe('rotateAccount', () => {
  it('journals the password durably before sending it', async () => {
    const s = fakeServer(['ok']);
    const { ctx, path, journal } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    await journal.close();
    assert.equal(o.status, 'rotated');
    assert.deepEqual(s.state.log, ['intent', 'write']);
    const records = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; u: string; pw: string; at: string });
    assert.deepEqual(records, [{ t: 'intent', u: 'fred', pw: PW, at: records[0]!.at }]);
  });

  it('settles an empty answer after apply by verification, without resending', async () => {
    const s = fakeServer([new UnexpectedAnswer('CMD_API_USER_PASSWD', 200, 'empty answer')]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'rotated');
    assert.equal(o.verified, true);
    assert.deepEqual(s.state.sent, [PW]);
    assert.equal(s.state.live, PW);
  });

  it('resends the same password when verification says it was not applied', async () => {
    const s = fakeServer([new TransportError('CMD_API_USER_PASSWD', 'ECONNRESET', true), 'ok'], [false]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'rotated');
    assert.equal(o.attempts, 2);
    assert.deepEqual(s.state.sent, [PW, PW]);
  });

  it('retries a 500 with the same password', async () => {
    const s = fakeServer([new UnexpectedAnswer('CMD_API_USER_PASSWD', 500, 'server error'), 'ok'], [false]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'rotated');
    assert.ok(s.state.sent.every((p) => p === PW));
  });

  it('ends unknown, with its password kept, when nothing can settle it', async () => {
    const reset = new TransportError('CMD_API_USER_PASSWD', 'ECONNRESET', true);
    const verifyDown = new TransportError('CMD_API_VERIFY_PASSWORD', 'ECONNREFUSED', false);
    const s = fakeServer([reset], [verifyDown, verifyDown, verifyDown, verifyDown]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'unknown');
    assert.equal(o.password, PW);
    assert.deepEqual(s.state.sent, [PW]);
  });

  it('fails at once on a command error, never retrying it', async () => {
    const s = fakeServer([new CommandFailed('CMD_API_USER_PASSWD', 'Cannot change password', 'Password is too short')]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'failed');
    assert.match(o.error!, /too short/);
    assert.equal(s.state.sent.length, 1);
  });

  it('marks a fatal error and does not retry it', async () => {
    const s = fakeServer([new AuthenticationFailed('CMD_API_USER_PASSWD', 'http-401')]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'not-sent');
    assert.ok(o.fatal);
    assert.equal(s.state.sent.length, 1);
  });

  it('gives up after the retry budget; a connection that never opened means failed', async () => {
    const refused = () => new TransportError('CMD_API_USER_PASSWD', 'ECONNREFUSED', false);
    const s = fakeServer([refused, refused, refused, refused, refused]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(o.status, 'failed');
    assert.equal(o.attempts, 4);
  });

  it('with verifyFirst (resume) checks before sending and does not resend a live password', async () => {
    const s = fakeServer([]);
    s.state.live = PW;
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW, { journaled: true, verifyFirst: true });
    assert.equal(o.status, 'rotated');
    assert.deepEqual(s.state.sent, []);
    assert.deepEqual(s.state.log, ['verify']);
  });

  it('does not resend once the run is stopping', async () => {
    const s = fakeServer([new TransportError('CMD_API_USER_PASSWD', 'UND_ERR_HEADERS_TIMEOUT', true)], [false]);
    const { ctx } = await context(s, { stopping: () => true });
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.equal(s.state.sent.length, 1);
    assert.equal(o.status, 'not-sent');
  });

  it('redacts the password from error texts echoed by the server', async () => {
    const s = fakeServer([(pw) => new CommandFailed('CMD_API_USER_PASSWD', 'Cannot change password', `bad: ${pw}`)]);
    const { ctx } = await context(s);
    const o = await rotateAccount(ctx, 'fred', PW);
    assert.ok(!o.error!.includes(PW), o.error);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter and a cap', () => {
    for (let i = 0; i < 100; i++) {
      const d1 = backoffDelay(500, 1);
      const d3 = backoffDelay(500, 3);
      assert.ok(d1 >= 250 && d1 <= 500, String(d1));
      assert.ok(d3 >= 1000 && d3 <= 2000, String(d3));
      assert.ok(backoffDelay(500, 30) <= 30_000);
    }
  });
});
