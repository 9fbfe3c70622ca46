import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { daUrl, hasScript, runOnTerminal, tempDir } from './cli-runner.js';
import { withSim } from './simulator-fixtures.js';

// util-linux `script` gives the CLI a real terminal, as an operator at a shell would: no JSON at the
// default level, a prompt with the breakdown, progress.

async function onTerminal(answer: string, options: { users: number; latencyMs: number }) {
  const sim = await startSimulator({ users: options.users, resellers: 0, faults: { latencyMs: options.latencyMs } });
  const out = tempDir();
  try {
    const { code, text } = await runOnTerminal(
      ['rotate', '--concurrency', '1', '--log-level', 'warn', '--output', join(out, 'r.csv')],
      { DA_URL: daUrl(sim) },
      answer,
    );
    return { code, text, changes: sim.stats.passwordChangesApplied };
  } finally {
    await sim.close();
    rmSync(out, { recursive: true, force: true });
  }
}

describe('on a terminal', { timeout: 90_000, skip: !hasScript && 'util-linux script is not installed' }, () => {
  it('asks for confirmation showing the server and the count, and shows progress', async () => {
    const r = await onTerminal('yes', { users: 40, latencyMs: 15 });
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /About to change the passwords of 40 account\(s\) on http:\/\/127\.0\.0\.1:\d+ \(logged in as admin\)/);
    assert.match(r.text, /changing \d+\/40/);
    assert.equal(r.changes, 40);
  });

  it('changes nothing when the answer is not yes', async () => {
    const r = await onTerminal('no', { users: 5, latencyMs: 0 });
    assert.equal(r.code, 2, r.text);
    assert.match(r.text, /not confirmed: nothing was changed/);
    assert.equal(r.changes, 0);
  });

  it('shows human lines only, and a prompt with the breakdown and where the report goes', async () => {
    await withSim({ users: 10, resellers: 1 }, async (sim, out) => {
      const report = join(out, 'r.csv');
      const { code, text } = await runOnTerminal(['rotate', '--count-all', '--include', 'account,email', '--output', report], { DA_URL: daUrl(sim) }, 'yes');
      assert.equal(code, 0, text);
      assert.match(text, /About to change \d+ credential\(s\) of 5 account\(s\) on http:\/\/127\.0\.0\.1:\d+ \(logged in as admin\)\./);
      assert.match(text, /by kind: 5 account passwords, \d+ mailbox passwords/);
      assert.ok(text.includes('accounts: 5 user(s), 0 reseller(s), 0 admin(s)'), text);
      assert.ok(text.includes(`the report with the new secrets goes to ${report}`), text);
      assert.doesNotMatch(text, /\{"level"/);
      assert.match(text, /Rotation finished/);
      assert.ok(existsSync(report));
    });
  });
});
