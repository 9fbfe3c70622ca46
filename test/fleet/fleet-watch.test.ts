/** A fleet run watched by monitoring, not by a person: --quiet, and [defaults] metrics_file. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { runInProcess, tempDir, writeInventory, type FleetSim } from './helpers.js';

describe('fleet: --quiet and the inventory metrics_file', { timeout: 120_000 }, () => {
  let sims: FleetSim[];
  let dir: string;
  let inv: { file: string; env: Record<string, string> };

  before(async () => {
    const a = await startSimulator({ users: 6, resellers: 0, seed: 21 });
    const b = await startSimulator({ users: 4, resellers: 0, seed: 22 });
    sims = [
      { name: 'a', sim: a, secret: a.adminPassword },
      { name: 'b', sim: b, secret: b.adminPassword },
    ];
    dir = tempDir();
    inv = writeInventory(dir, sims);
    mkdirSync(join(dir, 'metrics'), { mode: 0o755 });
    writeFileSync(inv.file, readFileSync(inv.file, 'utf8').replace('[defaults]\n', '[defaults]\nmetrics_file = "metrics/fleet.prom"\n'));
  });

  after(async () => {
    await Promise.all(sims.map((s) => s.sim.close()));
  });

  it('--quiet prints nothing when every server went well; without it the run says what it does', async () => {
    const quiet = await runInProcess('plan', { inventory: inv.file, 'output-dir': join(dir, 'out'), quiet: true }, inv.env);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    const loud = await runInProcess('plan', { inventory: inv.file, 'output-dir': join(dir, 'out') }, inv.env);
    assert.equal(loud.code, 0, loud.stderr);
    assert.notEqual(loud.stderr, '');
  });

  it('writes one set of samples per server to the inventory metrics_file, the server labelled by its URL', async () => {
    const r = await runInProcess('plan', { inventory: inv.file, 'output-dir': join(dir, 'out'), 'log-level': 'silent' }, inv.env);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(dir, 'metrics', 'fleet.prom'), 'utf8');
    for (const s of sims) {
      const server = s.sim.url.replace(/\/$/, '');
      assert.match(text, new RegExp(`^da_rotate_last_run_exit_code\\{command="plan",server="${server}"\\} 0$`, 'm'));
      // users + admin2 (scope all), every one planned.
      const planned = /^da_rotate_last_run_credentials\{command="plan",server="([^"]+)",kind="account",status="planned"\} (\d+)$/gm;
      const counts = new Map([...text.matchAll(planned)].map((m) => [m[1], Number(m[2])]));
      assert.equal(counts.get(server), s.sim.accounts().filter((x) => x.username !== 'admin').length, text);
    }
  });
});
