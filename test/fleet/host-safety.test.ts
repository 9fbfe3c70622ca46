/**
 * Issue 25, the fleet's directories: an --output-dir other users can write is refused before any
 * request; a run directory swapped for a link while the run uses it is detected and nothing is
 * written where the link points.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { realFileSystem, setFileSystemForTests } from '../../src/files.js';
import { startSimulator } from '../../src/simulator/index.js';
import { waitFor } from '../e2e/cli-runner.js';
import { runInProcess, tempDir, writeInventory, type FleetSim } from './helpers.js';

describe('fleet output directories', { timeout: 120_000 }, () => {
  let sims: FleetSim[];
  let dir: string;
  let inv: { file: string; env: Record<string, string> };

  before(async () => {
    // Slow answers: the run is still listing when the test swaps its directory.
    const slow = await startSimulator({ users: 3, resellers: 0, seed: 31, faults: { latencyMs: 400 } });
    sims = [{ name: 'slow', sim: slow, secret: slow.adminPassword }];
    dir = tempDir();
    inv = writeInventory(dir, sims);
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.sim.close()));
  });
  afterEach(() => setFileSystemForTests(undefined));

  for (const mode of [0o777, 0o1777, 0o775]) {
    it(`an --output-dir of mode ${mode.toString(8)} is refused (exit 2) before any request, its mode unchanged`, async () => {
      const out = join(dir, `shared-${mode.toString(8)}`);
      mkdirSync(out);
      chmodSync(out, mode);
      const requests = sims[0]!.sim.stats.totalRequests;
      for (const command of ['plan', 'rotate'] as const) {
        const r = await runInProcess(command, { inventory: inv.file, 'output-dir': out, yes: true, 'log-level': 'silent' }, inv.env);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /is writable by group or others .*chmod 700/);
      }
      assert.equal(sims[0]!.sim.stats.totalRequests, requests, 'no request was sent');
      assert.equal(statSync(out).mode & 0o7777, mode);
      assert.deepEqual(readdirSync(out), []);
    });
  }

  it('an --output-dir others can only read (0755) is used and keeps its mode', async () => {
    const out = join(dir, 'readable');
    mkdirSync(out);
    chmodSync(out, 0o755);
    const r = await runInProcess('plan', { inventory: inv.file, 'output-dir': out, 'log-level': 'silent' }, inv.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o7777, 0o755);
    const [runId] = readdirSync(out);
    assert.equal(statSync(join(out, runId!)).mode & 0o7777, 0o700, 'the run directory the tool created is 0700');
  });

  it('a run directory swapped for a link mid-run is detected: the run stops, nothing is written through the link', async () => {
    const out = join(dir, 'swap');
    const elsewhere = join(dir, 'attacker');
    mkdirSync(elsewhere);
    const requests = sims[0]!.sim.stats.totalRequests;
    const running = runInProcess('plan', { inventory: inv.file, 'output-dir': out, 'log-level': 'silent' }, inv.env);
    let runDir = '';
    await waitFor(
      () => {
        if (!existsSync(out)) return false;
        const [id] = readdirSync(out);
        // Mid-run: the server's run has checked its directory and is talking to the server (the few
        // milliseconds before that check are the window docs/security.md names).
        if (!id || !existsSync(join(out, id, 'slow')) || sims[0]!.sim.stats.totalRequests === requests) return false;
        runDir = join(out, id);
        return true;
      },
      { intervalMs: 20, timeoutMs: 30_000, until: running },
    );
    assert.ok(runDir, 'the run directory appeared');
    renameSync(runDir, `${runDir}.moved`);
    symlinkSync(elsewhere, runDir);
    const r = await running;
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /was replaced while the run used it/);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing was written where the link points');
  });

  // The same swap at the worst instants, made certain by the file-system seam (the test above swaps
  // whenever its poll sees the run, and met each of these now and then under load): around a
  // manifest write, and as a server's own run creates its first file in the run directory.
  const instants = [
    { name: "just before the manifest's temporary file is created", slug: 'manifest-before', before: true, file: /\/\.fleet\.json\.[^/]*$/ },
    { name: 'just after it is created, before its rename', slug: 'manifest-after', before: false, file: /\/\.fleet\.json\.[^/]*$/ },
    { name: "just before a server's run creates its first file", slug: 'server-file', before: true, file: /\/slow\/[^/]+$/ },
  ];
  for (const instant of instants) {
    it(`a run directory swapped ${instant.name}: named as swapped, nothing left where the link points`, async () => {
      const out = join(dir, `swap-${instant.slug}`);
      const elsewhere = join(dir, `attacker-${instant.slug}`);
      mkdirSync(elsewhere);
      let swapped = false;
      const swapIfMidRun = (path: string) => {
        if (swapped || !instant.file.test(path)) return;
        const runDir = instant.slug === 'server-file' ? dirname(dirname(path)) : dirname(path);
        if (!existsSync(join(runDir, 'slow'))) return;
        swapped = true;
        renameSync(runDir, `${runDir}.moved`);
        symlinkSync(elsewhere, runDir);
      };
      setFileSystemForTests({
        open: async (path, flags, mode) => {
          if (instant.before) swapIfMidRun(path);
          const handle = await realFileSystem.open(path, flags, mode);
          if (!instant.before) swapIfMidRun(path);
          return handle;
        },
      });
      const r = await runInProcess('plan', { inventory: inv.file, 'output-dir': out, 'log-level': 'silent' }, inv.env);
      assert.ok(swapped, 'the run wrote its files while it ran');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /was replaced while the run used it/);
      assert.doesNotMatch(r.stderr, /ENOENT|internal error/);
      assert.deepEqual(readdirSync(elsewhere), [], 'nothing was left where the link points');
    });
  }
});
