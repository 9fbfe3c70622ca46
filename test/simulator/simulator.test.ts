import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { spawn } from 'node:child_process';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { CLI, exitOf } from '../e2e/cli-runner.js';
import { whenCount } from '../e2e/simulator-fixtures.js';
import { admin, call, withSim, type Answer } from './helpers.js';

describe('simulator accounts', { timeout: 60_000 }, () => {
  it('seeds admins, resellers, owned users and suspended ones deterministically', async () => {
    const a = await startSimulator({ users: 40, resellers: 2, extraAdmins: 1, suspendedEvery: 10, seed: 3, adminPassword: 'AdminPw12345' });
    const b = await startSimulator({ users: 40, resellers: 2, extraAdmins: 1, suspendedEvery: 10, seed: 3, adminPassword: 'AdminPw12345' });
    try {
      assert.deepEqual(a.accounts(), b.accounts());
      const all = a.accounts();
      assert.equal(all.length, 1 + 1 + 2 + 40);
      assert.deepEqual(
        all.filter((x) => x.type === 'admin').map((x) => x.username),
        ['admin', 'admin2'],
      );
      assert.equal(all.filter((x) => x.suspended).length, 4);
      const owners = new Set(all.filter((x) => x.type === 'user').map((x) => x.creator));
      assert.ok(owners.has('admin') && owners.has('reseller1'));
      for (const x of all) assert.match(x.username, /^[a-z][a-z0-9]{0,31}$/);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('builds 100 000 accounts', async () => {
    await withSim({ users: 100_000, resellers: 10 }, async (sim) => {
      assert.equal(sim.accounts().length, 100_000 + 10 + 2);
      const r = await call(sim, '/CMD_API_SHOW_ALL_USERS?json=yes', admin(sim));
      assert.equal((JSON.parse(r.body) as string[]).length, 100_000);
    });
  });
});

describe('simulator commands and formats', { timeout: 60_000 }, () => {
  let sim: Simulator;
  before(async () => (sim = await startSimulator({ users: 20, resellers: 2, seed: 5, extraAccounts: [{ username: 'a&b=c d', password: 'Whatever123' }] })));
  after(() => sim.close());

  it('answers url-encoded in DirectAdmin style by default', async () => {
    const r = await call(sim, '/CMD_API_LOGIN_TEST', admin(sim));
    assert.equal(r.body, 'error=%30&text=Login%20OK&details=');
    const users = await call(sim, '/CMD_API_SHOW_USERS', admin(sim));
    assert.match(users.body, /^list%5B%5D=user%30%30%30/);
    assert.ok(users.body.includes('list%5B%5D=a%26b%3Dc%20d'), 'hostile names are encoded, not raw');
    const cfg = await call(sim, '/CMD_API_SHOW_USER_CONFIG?user=user00001', admin(sim));
    assert.match(cfg.body, /date%5Fcreated=[A-Z][a-z]{2}%20[A-Z][a-z]{2}%20/);
    assert.match(cfg.body, /usertype=user/);
  });

  it('answers JSON with json=yes in the query or the body', async () => {
    assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_LOGIN_TEST?json=yes', admin(sim))).body), { success: 'Login OK', result: '' });
    const list = JSON.parse((await call(sim, '/CMD_API_SHOW_RESELLERS?json=yes', admin(sim))).body);
    assert.deepEqual(list, ['reseller1', 'reseller2']);
    const v = await call(sim, '/CMD_API_VERIFY_PASSWORD', { ...admin(sim), body: `user=admin&passwd=${sim.adminPassword}&json=yes` });
    assert.deepEqual(JSON.parse(v.body), { valid: '1' });
  });

  it("lists a reseller's users with reseller= and every user with SHOW_ALL_USERS", async () => {
    const owned = sim
      .accounts()
      .filter((a) => a.creator === 'reseller1' && a.type === 'user')
      .map((a) => a.username);
    const r = JSON.parse((await call(sim, '/CMD_API_SHOW_USERS?reseller=reseller1&json=yes', admin(sim))).body);
    assert.deepEqual(r, owned);
    const all = JSON.parse((await call(sim, '/CMD_API_SHOW_ALL_USERS?json=yes', admin(sim))).body) as string[];
    assert.equal(all.length, 21);
    assert.ok(!all.includes('reseller1'));
  });

  it('verifies passwords and existence', async () => {
    assert.equal((await call(sim, `/CMD_API_VERIFY_PASSWORD?user=user00001&passwd=${sim.password('user00001')}`, admin(sim))).body, 'valid=%31');
    assert.equal((await call(sim, '/CMD_API_VERIFY_PASSWORD?user=user00001&passwd=nope', admin(sim))).body, 'valid=%30');
    assert.equal((await call(sim, '/CMD_API_USER_EXISTS?user=user00001', admin(sim))).body, 'error=0&exists=%31');
    assert.equal((await call(sim, '/CMD_API_USER_EXISTS?user=ghost', admin(sim))).body, 'error=0&exists=%30');
  });

  it('changes a password by POST only, with every documented error', async () => {
    const post = (body: string) => call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: body + '&json=yes' });
    const err = async (body: string) => JSON.parse((await post(body)).body) as { error?: string; result?: string; success?: string };
    assert.equal(
      (await call(sim, '/CMD_API_USER_PASSWD?username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1234&json=yes', admin(sim))).body.includes('"error"'),
      true,
    );
    assert.equal((await err('username=user00001&passwd=Abcdefgh1234')).result, 'You must enter the password in both fields');
    assert.equal((await err('username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1235')).result, 'Passwords do not match');
    assert.equal((await err('username=ghost&passwd=Abcdefgh1234&passwd2=Abcdefgh1234')).result, 'That user does not exist');
    assert.equal((await err('username=user00001&passwd=Ab1&passwd2=Ab1')).result, 'Password is too short');
    const long = 'A1b'.repeat(100);
    assert.equal((await err(`username=user00001&passwd=${long}&passwd2=${long}`)).result, 'Password is too long');
    assert.equal((await err('username=user00001&passwd=Abc%20def123&passwd2=Abc%20def123')).result, 'Invalid characters in password');
    const current = sim.password('user00002')!;
    assert.equal((await err(`username=user00002&passwd=${current}&passwd2=${current}`)).result, "New password isn't different");
    const ok = await err('username=user00001&passwd=NewPassw0rd123&passwd2=NewPassw0rd123');
    assert.equal(ok.success, 'Password Changed');
    assert.equal(sim.password('user00001'), 'NewPassw0rd123');
    const suspended = sim.accounts().find((a) => a.suspended)!;
    assert.equal(
      (await err(`username=${suspended.username}&passwd=NewPassw0rd123&passwd2=NewPassw0rd123`)).success,
      'User password changed, however the account is still suspended',
    );
    const url = await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00003&passwd=Abc&passwd2=Abd' });
    assert.equal(url.body, 'error=%31&text=Cannot%20change%20password&details=Passwords%20do%20not%20match');
  });

  it('lets a reseller change only its own users and refuses admin commands', async () => {
    const r1 = sim.accounts().find((a) => a.username === 'reseller1')!;
    const own = sim.accounts().find((a) => a.creator === 'reseller1' && a.type === 'user')!;
    const other = sim.accounts().find((a) => a.creator === 'admin' && a.type === 'user')!;
    const as = { user: 'reseller1', secret: r1.password };
    const mine = await call(sim, '/CMD_API_USER_PASSWD', { ...as, body: `username=${own.username}&passwd=Reseller1Pw99&passwd2=Reseller1Pw99&json=yes` });
    assert.equal(JSON.parse(mine.body).success, 'Password Changed');
    const theirs = await call(sim, '/CMD_API_USER_PASSWD', { ...as, body: `username=${other.username}&passwd=Reseller1Pw99&passwd2=Reseller1Pw99&json=yes` });
    assert.equal(JSON.parse(theirs.body).result, 'That user does not belong to you');
    assert.equal((await call(sim, '/CMD_API_SHOW_RESELLERS', as)).body, 'error=%31&text=You%20cannot%20execute%20that%20command&details=');
  });

  it('supports login-as admin|user', async () => {
    const r = await call(sim, '/CMD_API_LOGIN_TEST?json=yes', { user: `${sim.adminUser}|user00004`, secret: sim.adminPassword });
    assert.equal(JSON.parse(r.body).success, 'Login OK');
    const bad = await call(sim, '/CMD_API_LOGIN_TEST', { user: 'user00004|user00005', secret: sim.password('user00004')! });
    assert.equal(bad.headers.get('x-directadmin'), 'unauthorized');
  });
});

describe('simulator format switches', { timeout: 60_000 }, () => {
  it('produces every list and entity variant', async () => {
    await withSim(
      { users: 3, resellers: 0, format: { bracketStyle: 'plain', listStyle: 'object', entities: true, emptyList: 'no-key', jsonExtended: true } },
      async (sim) => {
        assert.match((await call(sim, '/CMD_API_SHOW_USERS', admin(sim))).body, /^list\[\]=user%26%23%34%38%3B/);
        assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_USERS?json=yes', admin(sim))).body), {
          '0': 'user00001',
          '1': 'user00002',
          '2': 'user00003',
        });
        assert.equal((await call(sim, '/CMD_API_SHOW_RESELLERS', admin(sim))).body, 'error=0');
        // Entities ("&#49;" for "1") arrive percent-encoded inside values, never in keys or error=.
        const cfg = await call(sim, '/CMD_API_SHOW_USER_CONFIG?user=user00001', admin(sim));
        assert.match(cfg.body, /^username=user%26%23%34%38%3B%26%23%34%38%3B/);
        assert.ok(cfg.body.includes('&date%5Fcreated='));
        assert.equal(JSON.parse((await call(sim, '/CMD_API_LOGIN_TEST?json=yes', admin(sim))).body).extended, 'true');
      },
    );
    await withSim({ users: 1, resellers: 0, format: { listStyle: 'wrapped' } }, async (sim) => {
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_USERS?json=yes', admin(sim))).body), { list: ['user00001'] });
      assert.equal((await call(sim, '/CMD_API_SHOW_RESELLERS', admin(sim))).body, '');
    });
  });

  it('includes resellers and admins in SHOW_ALL_USERS when asked', async () => {
    await withSim({ users: 2, resellers: 1, showAllUsersIncludesResellersAndAdmins: true }, async (sim) => {
      const all = JSON.parse((await call(sim, '/CMD_API_SHOW_ALL_USERS?json=yes', admin(sim))).body) as string[];
      assert.ok(all.includes('reseller1') && all.includes('admin'));
    });
  });

  it('enforces the difficult password rule', async () => {
    await withSim({ users: 1, resellers: 0, passwordPolicy: { difficult: true } }, async (sim) => {
      const r = JSON.parse(
        (await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1234&json=yes' })).body,
      );
      assert.equal(r.error, 'Unable to satisfy difficult password check.');
      assert.equal(r.result, 'Password must have at least one special character such as !@#%$ etc..');
      const ok = JSON.parse(
        (await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=Abcdefgh12.4&passwd2=Abcdefgh12.4&json=yes' })).body,
      );
      assert.equal(ok.success, 'Password Changed');
    });
  });
});

describe('simulator authentication', { timeout: 60_000 }, () => {
  it('answers each failure style', async () => {
    const expect: Record<string, (a: Answer) => void> = {
      'login-page': (a) => {
        assert.equal(a.status, 200);
        assert.equal(a.headers.get('x-directadmin'), 'unauthorized');
        assert.match(a.body, /<title>DirectAdmin Login<\/title>/);
      },
      'evolution-page': (a) => assert.match(a.body, /AUTH_METHOD: "CMD_LOGIN"/),
      '401': (a) => assert.equal(a.status, 401),
      '401-json': (a) => {
        assert.equal(a.status, 401);
        assert.deepEqual(JSON.parse(a.body), { type: 'UNAUTHORIZED' });
      },
    };
    for (const [style, check] of Object.entries(expect)) {
      await withSim({ users: 1, resellers: 0, authFailure: style as SimulatorOptions['authFailure'] }, async (sim) => {
        check(await call(sim, '/CMD_API_LOGIN_TEST', { user: 'admin', secret: 'wrong' }));
        assert.equal(sim.stats.failedLogins, 1);
      });
    }
  });

  it('blacklists an IP after N failures, without counting more failed logins', async () => {
    await withSim({ users: 1, resellers: 0, blacklistAfter: 3 }, async (sim) => {
      for (let i = 0; i < 3; i++) await call(sim, '/CMD_API_LOGIN_TEST', { user: 'admin', secret: 'wrong' });
      const r = await call(sim, '/CMD_API_LOGIN_TEST', admin(sim));
      assert.equal(r.status, 403);
      assert.match(r.body, /Your IP is blacklisted/);
      assert.equal(sim.stats.failedLogins, 3);
      sim.unblacklist();
      assert.equal((await call(sim, '/CMD_API_LOGIN_TEST', admin(sim))).status, 200);
    });
  });

  it('honours login key commands, IPs, uses and expiry', async () => {
    await withSim({ users: 1, resellers: 0 }, async (sim) => {
      sim.addLoginKey('admin', { key: 'KeyLimited1', commands: ['CMD_API_LOGIN_TEST'], maxUses: 2 });
      sim.addLoginKey('admin', { key: 'KeyOtherIp1', ips: ['10.9.9.9'] });
      sim.addLoginKey('admin', { key: 'KeyExpired1', expiresAt: new Date(Date.now() - 1000) });
      const k = (secret: string, path = '/CMD_API_LOGIN_TEST') => call(sim, path, { user: 'admin', secret });
      assert.equal((await k('KeyLimited1')).headers.get('x-directadmin'), null);
      assert.equal((await k('KeyLimited1', '/CMD_API_SHOW_USERS')).headers.get('x-directadmin'), 'unauthorized');
      assert.equal((await k('KeyLimited1')).headers.get('x-directadmin'), null);
      assert.equal((await k('KeyLimited1')).headers.get('x-directadmin'), 'unauthorized', 'max uses reached');
      assert.equal((await k('KeyOtherIp1')).headers.get('x-directadmin'), 'unauthorized');
      sim.unblacklist();
      assert.equal((await k('KeyExpired1')).headers.get('x-directadmin'), 'unauthorized');
    });
  });

  it('can demand https and redirect', async () => {
    await withSim({ users: 1, resellers: 0, needsHttps: true }, async (sim) => {
      const r = await call(sim, '/CMD_API_LOGIN_TEST', admin(sim));
      assert.equal(r.headers.get('x-use-https'), 'yes');
      assert.equal(r.body, 'use https');
    });
    await withSim({ users: 1, resellers: 0, redirectTo: 'https://elsewhere.example:2222/' }, async (sim) => {
      const r = await call(sim, '/CMD_API_LOGIN_TEST', admin(sim));
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('location'), 'https://elsewhere.example:2222/');
    });
  });
});

describe('simulator faults', { timeout: 60_000 }, () => {
  const change = (sim: Simulator, user: string, pw: string) =>
    call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: `username=${user}&passwd=${pw}&passwd2=${pw}&json=yes` });

  it('reset before apply leaves the password, reset after apply changes it', async () => {
    await withSim(
      { users: 3, resellers: 0, faults: { resetBeforeApply: { users: ['user00001'] }, resetAfterApply: { users: ['user00002'] } } },
      async (sim) => {
        const old = sim.password('user00001');
        await assert.rejects(change(sim, 'user00001', 'NewPassw0rd111'));
        assert.equal(sim.password('user00001'), old);
        await assert.rejects(change(sim, 'user00002', 'NewPassw0rd222'));
        assert.equal(sim.password('user00002'), 'NewPassw0rd222');
      },
    );
  });

  it('empty after apply, HTML after apply and 500 without apply', async () => {
    await withSim(
      {
        users: 3,
        resellers: 0,
        faults: { emptyAfterApply: { users: ['user00001'] }, htmlAfterApply: { users: ['user00002'] }, error500: { users: ['user00003'], limit: 1 } },
      },
      async (sim) => {
        const e = await change(sim, 'user00001', 'NewPassw0rd111');
        assert.equal(e.status, 200);
        assert.equal(e.body, '');
        assert.equal(sim.password('user00001'), 'NewPassw0rd111');
        assert.match((await change(sim, 'user00002', 'NewPassw0rd222')).body, /<html>/);
        const old = sim.password('user00003');
        assert.equal((await change(sim, 'user00003', 'NewPassw0rd333')).status, 500);
        assert.equal(sim.password('user00003'), old);
        assert.equal((await change(sim, 'user00003', 'NewPassw0rd333')).status, 200, 'limit reached');
        assert.equal(sim.stats.passwordChangesApplied, 3);
      },
    );
  });

  it('a hang never answers, and close() still finishes', async () => {
    const sim = await startSimulator({ users: 1, resellers: 0, faults: { hang: { rate: 1 } } });
    const pending = change(sim, 'user00001', 'NewPassw0rd111').then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise<void>((resolve) => whenCount(sim.stats.faultsFired, 'hang', 1, resolve));
    await sim.close();
    assert.equal(await pending, 'failed');
    assert.equal(sim.stats.passwordChangesApplied, 0);
  });

  it('capacity bounds how many requests are processed at once; latency applies', async () => {
    await withSim({ users: 1, resellers: 0, faults: { capacity: 3, latencyMs: 30 } }, async (sim) => {
      await Promise.all(Array.from({ length: 12 }, () => call(sim, '/CMD_API_LOGIN_TEST', admin(sim))));
      assert.equal(sim.stats.maxProcessing, 3);
      // The latency held each of the three slots, so the rest waited in the queue (no clock is read:
      // how fast the simulator answers is the benchmark's business, not a test's).
      assert.ok(sim.stats.maxInFlight > 3, 'the rest waited in the queue');
      assert.equal(sim.stats.answered, 12, 'every delayed answer counted');
      sim.setFaults({});
      sim.resetStats();
      assert.equal(sim.stats.totalRequests, 0);
    });
  });
});

describe('simulator over TLS and as a command', { timeout: 60_000 }, () => {
  it('serves HTTPS with the fingerprint it reports', async () => {
    await withSim({ users: 1, resellers: 0, tls: true }, async (sim) => {
      assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(new X509Certificate(sim.certPem!).fingerprint256, sim.fingerprint256);
      const seen = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          sim.url + '/CMD_API_LOGIN_TEST',
          { rejectUnauthorized: false, headers: { authorization: 'Basic ' + Buffer.from(`admin:${sim.adminPassword}`).toString('base64') } },
          (res) => {
            const fp = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
            res.resume();
            res.on('end', () => resolve(fp));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(seen, sim.fingerprint256);
    });
  });

  it('`da-rotate simulate --json-status` starts, answers curl-style requests, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'simulate', '--users', '5', '--json-status'], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Bounded: a simulator that never answers or never stops is killed and fails the test.
    const exited = exitOf(child, 30_000);
    try {
      const status = await new Promise<{ url: string; adminUser: string; adminPassword: string }>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!));
        });
        child.on('error', reject);
        exited.then((code) => reject(new Error(`exited ${code}`)), reject);
      });
      const r = await fetch(`${status.url}/CMD_API_SHOW_USERS`, {
        headers: { authorization: 'Basic ' + Buffer.from(`${status.adminUser}:${status.adminPassword}`).toString('base64') },
      });
      assert.match(await r.text(), /^list%5B%5D=user%30%30%30%30%3\d(&|$)/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
