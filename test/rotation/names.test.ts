/**
 * Issue 25: names from the server are checked per kind before any request carries them. A
 * simulator serving `=1+1`, CRLF and `../../etc` as mailbox, FTP, domain, database user, key and
 * session names (--hostile-names): each is a failed report row naming it, none is touched, every
 * other credential of the account is rotated.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nameProblem } from '../../src/kinds/names.js';
import { parseReport } from '../../src/rotation/report-parse.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runInProcess } from '../fleet/helpers.js';
import { daUrl } from '../e2e/cli-runner.js';

describe('name rules', () => {
  it('refuses formulas, line breaks and paths; accepts what DirectAdmin allows', () => {
    for (const [part, ok, bad] of [
      ['user', ['fred', 'user00001', 'a1'], ['Fred', '1abc', '../x', 'a b', '=1+1', 'a\r\nb']],
      ['domain', ['example.com', 'user-shop.example.com', 'xn--bcher-kva.example'], ['../../etc', 'localhost', 'a..b', '-a.com', 'a.com\r\n', 'a_b.com']],
      ['local', ['info', 'first.last', 'a_b-c'], ['=1+1', 'a\r\nb', '../../etc', '.hidden', 'a..b', 'a b', 'a@b', 'a+b']],
      ['db-user', ['user00001_wp', 'fred_db1'], ['../../etc', "x'--", 'a b', 'a-b']],
      ['id', ['key1', 'a1b2c3d4e5f6a7b8', 'k-1_2.3'], ['../../etc', '..', '.', 'a/b', '=1+1\r\nx', 'a%2e']],
    ] as const) {
      for (const v of ok) assert.equal(nameProblem(part, v), undefined, `${part} ${v}`);
      for (const v of bad) assert.match(nameProblem(part, v) ?? '', /never sent in a request/, `${part} ${JSON.stringify(v)}`);
    }
  });
});

describe('a server that lists hostile names', { timeout: 120_000 }, () => {
  let sim: Simulator;
  let dir = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'da-rotate-names-'));
    sim = await startSimulator({
      users: 3,
      resellers: 0,
      suspendedEvery: 0,
      loginKeysPerUser: 1,
      sessionsPerUser: 1,
      dbUsersPerUser: 1,
      hostileNames: ['user00001'],
    });
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each hostile name is a failed row naming it and is never touched; the rest is rotated', async () => {
    const before = {
      mailboxes: new Map(sim.mailboxes('user00001').map((m) => [m.address, m.password])),
      keys: sim.loginKeys('user00001').map((k) => k.name),
      sessions: sim.sessions('user00001').map((s) => s.publicID),
      db: new Map(sim.dbUsers('user00001').map((d) => [d.dbuser, d.password])),
    };
    const output = join(dir, 'r.csv');
    const r = await runInProcess(
      'rotate',
      { yes: true, output, include: ['all', 'db-user'], 'log-level': 'silent' },
      { DA_URL: daUrl(sim), XDG_STATE_HOME: join(dir, 'state') },
    );
    assert.equal(r.code, 1, r.stderr);
    const rows = parseReport(readFileSync(output, 'utf8'), output);
    const refused = rows.filter((x) => x.error.includes('never sent in a request'));
    const domain = 'user00001.example.net';
    assert.deepEqual(
      refused.map((x) => `${x.kind} ${x.credential} ${x.status}`).sort(),
      [
        `db-user ../../etc failed`,
        `email *@../../etc failed`,
        `email =1+1@${domain} failed`,
        `email a\\x0d\\x0ab@${domain} failed`,
        `ftp ../../etc@${domain} failed`,
        `ftp *@../../etc failed`,
        `login-key ../../etc failed`,
        `session =1+1\\x0d\\x0ax failed`,
      ].sort(),
    );
    // Untouched on the server.
    for (const address of [`=1+1@${domain}`, `a\r\nb@${domain}`, 'info@../../etc']) {
      assert.ok(before.mailboxes.has(address), `the simulator serves ${address}`);
      assert.equal(sim.mailboxPassword(address), before.mailboxes.get(address), address);
    }
    assert.ok(sim.loginKeys('user00001').some((k) => k.name === '../../etc'));
    assert.ok(sim.sessions('user00001').some((s) => s.publicID === '=1+1\r\nx'));
    assert.ok(before.db.get('../../etc'), 'the simulator serves the hostile database user');
    assert.equal(sim.dbUsers('user00001').find((d) => d.dbuser === '../../etc')?.password, before.db.get('../../etc'));
    // Everything else of the account was done.
    const done = rows.filter((x) => x.username === 'user00001' && !refused.includes(x));
    assert.ok(done.length >= 5, JSON.stringify(done));
    for (const x of done) assert.ok(['rotated', 'revoked'].includes(x.status), `${x.kind} ${x.credential}: ${x.status} ${x.error}`);
  });
});
