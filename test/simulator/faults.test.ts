import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { Load } from '../../src/simulator/load.js';
import type { Faults, SimulatorStats } from '../../src/simulator/types.js';
import { admin, as, call, form, withSim } from './helpers.js';

const auth = (sim: Simulator) => 'Basic ' + Buffer.from(`${sim.adminUser}:${sim.adminPassword}`).toString('base64');

describe('simulator faults on any command', { timeout: 30_000 }, () => {
  it('hits only the commands listed, reads included', async () => {
    await withSim({ users: 3, resellers: 0, faults: { error500: { rate: 1, commands: ['CMD_API_SHOW_USERS', '/api/login-keys/keys'] } } }, async (sim) => {
      assert.equal((await call(sim, '/CMD_API_SHOW_USERS', admin(sim))).status, 500);
      assert.equal((await call(sim, '/CMD_API_LOGIN_TEST', admin(sim))).status, 200);
      const change = await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=NewPassw0rd1&passwd2=NewPassw0rd1' });
      assert.equal(form(change.body).error, '0', 'a write not listed is not hit');
      assert.equal((await call(sim, '/api/login-keys/keys', admin(sim))).status, 500);
      assert.equal((await call(sim, '/api/login-keys/keys/k1', { ...admin(sim), method: 'DELETE' })).status, 500, 'a path matches the routes below it');
      assert.equal((await call(sim, '/api/sessions', admin(sim))).status, 200);
      assert.equal(sim.stats.faultsFired.error500, 3);
    });
  });

  it('defaults to write requests: POP modify is hit, POP list and listings are not', async () => {
    await withSim({ users: 3, resellers: 0, faults: { error500: { rate: 1 } } }, async (sim) => {
      const d = 'user00001.example.net';
      assert.equal((await call(sim, '/CMD_API_SHOW_USERS', admin(sim))).status, 200);
      assert.equal((await call(sim, `/CMD_API_POP?action=list&domain=${d}`, as(sim, 'user00001'))).status, 200);
      const before = sim.mailboxPassword(`info@${d}`);
      assert.equal(
        (await call(sim, '/CMD_API_POP', { ...as(sim, 'user00001'), body: `action=modify&domain=${d}&user=info&passwd=MailPassw0rd1&passwd2=MailPassw0rd1` }))
          .status,
        500,
      );
      assert.equal(sim.mailboxPassword(`info@${d}`), before, '500 applies nothing');
      assert.equal((await call(sim, '/api/sessions/destroy-all-other', { ...as(sim, 'user00001'), method: 'POST' })).status, 500);
    });
  });

  it('matches `users` against the target account and the credential', async () => {
    const faults: Faults = {
      error500: { users: ['user00002'], commands: ['CMD_API_SHOW_USER_CONFIG', 'CMD_API_VERIFY_PASSWORD'] },
      emptyAfterApply: { users: ['sales@user00001.example.net'], commands: ['CMD_API_POP'] },
    };
    await withSim({ users: 3, resellers: 0, faults }, async (sim) => {
      assert.equal((await call(sim, '/CMD_API_SHOW_USER_CONFIG?user=user00001', admin(sim))).status, 200);
      assert.equal((await call(sim, '/CMD_API_SHOW_USER_CONFIG?user=user00002', admin(sim))).status, 500);
      assert.equal((await call(sim, '/CMD_API_VERIFY_PASSWORD?user=user00002&passwd=x', admin(sim))).status, 500);
      const d = 'user00001.example.net';
      const modify = (user: string) =>
        call(sim, '/CMD_API_POP', { ...as(sim, 'user00001'), body: `action=modify&domain=${d}&user=${user}&passwd=MailPassw0rd1&passwd2=MailPassw0rd1` });
      assert.equal((await modify('info')).body, 'error=%30&text=Email%20account%20modified&details=');
      const lost = await modify('sales');
      assert.deepEqual([lost.status, lost.body], [200, '']);
      assert.equal(sim.mailboxPassword(`sales@${d}`), 'MailPassw0rd1', 'applied, answer lost');
    });
  });

  it('after-apply faults on reads compute the answer then reset, empty or send HTML', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim) => {
      sim.setFaults({ resetAfterApply: { rate: 1, commands: ['CMD_API_LOGIN_TEST'] } });
      await assert.rejects(call(sim, '/CMD_API_LOGIN_TEST', admin(sim)));
      sim.setFaults({ emptyAfterApply: { rate: 1, commands: ['CMD_API_VERIFY_PASSWORD'] } });
      assert.equal((await call(sim, `/CMD_API_VERIFY_PASSWORD?user=user00001&passwd=x`, admin(sim))).body, '');
      sim.setFaults({ htmlAfterApply: { rate: 1, commands: ['*'], limit: 1 } });
      assert.match((await call(sim, '/CMD_API_SHOW_ADMINS', admin(sim))).body, /<html>/);
      assert.equal((await call(sim, '/CMD_API_SHOW_ADMINS', admin(sim))).body, 'list%5B%5D=admin&list%5B%5D=admin%32', 'limit reached');
    });
  });

  it('a DELETE of a login key whose answer is lost still deletes it; a refused write gets no after-apply fault', async () => {
    await withSim({ users: 2, resellers: 0, faults: { resetAfterApply: { rate: 1 } } }, async (sim) => {
      sim.addLoginKey('user00001', { key: 'KeyAAAA11112222', name: 'k1' });
      await assert.rejects(call(sim, '/api/login-keys/keys/k1', { ...as(sim, 'user00001'), method: 'DELETE' }));
      assert.deepEqual(sim.loginKeys('user00001'), []);
      const gone = await call(sim, '/api/login-keys/keys/k1', { ...as(sim, 'user00001'), method: 'DELETE' });
      assert.equal(gone.status, 404, 'nothing applied: the refusal comes through');
    });
  });

  it('hang holds any listed command until close', async () => {
    const sim = await startSimulator({ users: 1, resellers: 0, faults: { hang: { rate: 1, commands: ['CMD_API_LOGIN_TEST'] } } });
    const pending = new Promise<string>((resolve) => {
      const req = http.get(sim.url + '/CMD_API_LOGIN_TEST', { headers: { authorization: auth(sim) } }, () => resolve('answered'));
      req.on('error', () => resolve('failed'));
    });
    while (sim.stats.faultsFired.hang !== 1) await new Promise((r) => setImmediate(r));
    await sim.close();
    assert.equal(await pending, 'failed');
  });
});

describe('simulator trickle', { timeout: 30_000 }, () => {
  function get(sim: Simulator, path: string, onHeaders?: () => void): Promise<{ status: number; chunks: number; body: string; error?: string }> {
    return new Promise((resolve) => {
      const req = http.get(sim.url + path, { headers: { authorization: auth(sim) } }, (res) => {
        onHeaders?.();
        let chunks = 0;
        let body = '';
        res.on('data', (d: Buffer) => {
          chunks++;
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode!, chunks, body }));
        res.on('error', (e) => resolve({ status: res.statusCode!, chunks, body, error: e.message }));
        res.on('aborted', () => resolve({ status: res.statusCode!, chunks, body, error: 'aborted' }));
      });
      req.on('error', (e) => resolve({ status: 0, chunks: 0, body: '', error: e.message }));
    });
  }

  it('sends the whole answer one byte at a time', async () => {
    await withSim({ users: 1, resellers: 0, faults: { trickle: { rate: 1, commands: ['CMD_API_LOGIN_TEST'], bytesPerSecond: 500 } } }, async (sim) => {
      const r = await get(sim, '/CMD_API_LOGIN_TEST');
      assert.equal(r.status, 200);
      assert.equal(r.body, 'error=%30&text=Login%20OK&details=');
      assert.ok(r.chunks > 1, `arrived in ${r.chunks} chunks`);
      assert.equal(sim.stats.faultsFired.trickle, 1);
    });
  });

  it('trickles refusals too, by default on writes only', async () => {
    await withSim({ users: 1, resellers: 0, faults: { trickle: { rate: 1, bytesPerSecond: 1000 } } }, async (sim) => {
      const r = await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1235' });
      assert.equal(r.body, 'error=%31&text=Cannot%20change%20password&details=Passwords%20do%20not%20match');
      assert.equal((await call(sim, '/CMD_API_LOGIN_TEST', admin(sim))).body, 'error=%30&text=Login%20OK&details=');
      assert.equal(sim.stats.faultsFired.trickle, 1);
    });
  });

  it('stalls after the headers, and close() ends it', async () => {
    const sim = await startSimulator({ users: 1, resellers: 0, faults: { trickle: { rate: 1, commands: ['CMD_API_SHOW_USERS'], stallAfterHeaders: true } } });
    let closing: Promise<void> | undefined;
    const r = await get(sim, '/CMD_API_SHOW_USERS', () => {
      closing = sim.close();
    });
    await closing;
    assert.equal(r.status, 200);
    assert.equal(r.body, '', 'no byte of the body');
    assert.ok(r.error, 'the response was cut, not completed');
  });

  it('a slow trickle stops when the simulator closes', async () => {
    const sim = await startSimulator({ users: 1, resellers: 0, faults: { trickle: { rate: 1, commands: ['CMD_API_LOGIN_TEST'], bytesPerSecond: 1 } } });
    let closing: Promise<void> | undefined;
    const r = await get(sim, '/CMD_API_LOGIN_TEST', () => {
      closing = sim.close();
    });
    await closing;
    assert.equal(r.status, 200);
    assert.notEqual(r.body, 'error=%30&text=Login%20OK&details=');
    assert.ok(r.error);
  });
});

describe('simulator degrading mode', { timeout: 30_000 }, () => {
  const stats = (processing: number) => ({ processing, maxProcessing: 0 }) as SimulatorStats;
  it('multiplies latency by 1 + overload^2 past capacity', () => {
    const at = (processing: number, f: Faults) =>
      new Load(
        stats(processing),
        () => f,
        () => 0,
      ).latency();
    const f: Faults = { degrade: { capacity: 24, baseMs: 20 } };
    assert.equal(at(10, f), 20);
    assert.equal(at(24, f), 20);
    assert.equal(at(48, f), 40);
    assert.equal(at(72, f), 100);
    assert.equal(at(48, { latencyMs: 10, degrade: { capacity: 24 } }), 20, 'baseMs defaults to latencyMs');
    assert.equal(at(48, { latencyMs: 10 }), 10, 'no degrade: flat');
  });

  it('queues nothing: every request is processed at once', async () => {
    const sim = await startSimulator({ users: 1, resellers: 0, faults: { degrade: { capacity: 2, baseMs: 60_000 } } });
    const pending = Array.from({ length: 8 }, () =>
      call(sim, '/CMD_API_LOGIN_TEST', admin(sim)).then(
        () => 'answered',
        () => 'failed',
      ),
    );
    while (sim.stats.inFlight < 8) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(sim.stats.processing, 8);
    await sim.close();
    assert.deepEqual(await Promise.all(pending), Array(8).fill('failed'));
  });
});
