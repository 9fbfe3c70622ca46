/**
 * --metrics-file as monitoring reads it: the file a run leaves is served by the real
 * node_exporter (Debian's prometheus-node-exporter, textfile collector only) and read back over HTTP.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { daUrl, exitOf, runCli, summaryOf, tempDir } from './cli-runner.js';

const EXPORTER = ['prometheus-node-exporter', 'node_exporter'].find((b) => spawnSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' }).status === 0);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts node_exporter on a free loopback port serving `dir`; resolves once /metrics answers (bounded). */
async function startExporter(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    EXPORTER!,
    ['--collector.disable-defaults', '--collector.textfile', `--collector.textfile.directory=${dir}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const url = `http://127.0.0.1:${port}/metrics`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`node_exporter exited ${child.exitCode}: ${log}`);
    try {
      const r = await fetch(url);
      if (r.ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`node_exporter did not answer on ${url} within 10 s: ${log}`);
}

/** The da_rotate samples of an exposition, as name{labels} -> value (labels as node_exporter prints them). */
function daSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(da_rotate_[a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

describe(
  '--metrics-file through node_exporter',
  { timeout: 120_000, skip: !EXPORTER && 'prometheus-node-exporter is not installed (apt-get install prometheus-node-exporter)' },
  () => {
    it('serves the per-kind, per-status counts, exit code and requests of the last run', async () => {
      const sim = await startSimulator({ users: 12, resellers: 0, faults: { latencyMs: 0 } });
      const out = tempDir();
      const textfiles = tempDir('da-rotate-textfile-');
      const exporter = await startExporter(textfiles);
      try {
        const file = join(textfiles, 'da-rotate.prom');
        const r = await runCli(['rotate', '--yes', '--json', '--include', 'all', '--output', join(out, 'r.csv'), '--metrics-file', file], {
          env: { DA_URL: daUrl(sim) },
        });
        const summary = summaryOf(r);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(summary.command, 'rotate');
        const byKind = summary.byKind as Record<string, Record<string, number>>;
        assert.ok(Object.keys(byKind).length >= 3, JSON.stringify(byKind));

        const served = await (await fetch(exporter.url)).text();
        const s = daSamples(served);
        assert.equal(s.get('node_textfile_scrape_error'), undefined);
        assert.match(served, /^node_textfile_scrape_error 0$/m);
        const server = `server="${sim.url.replace(/\/$/, '')}"`;
        const labels = (extra = '') => `{command="rotate"${extra},${server}}`;
        // node_exporter sorts labels by name: command, kind, server, status.
        let total = 0;
        for (const [kind, counts] of Object.entries(byKind)) {
          for (const [status, n] of Object.entries(counts)) {
            assert.equal(
              s.get(`da_rotate_last_run_credentials{command="rotate",kind="${kind}",${server},status="${status}"}`),
              n,
              `${kind} ${status}\n${served}`,
            );
            total += n;
          }
        }
        assert.equal(
          total,
          Object.values(summary.counts).reduce((a, b) => a + b, 0),
        );
        assert.equal(s.get(`da_rotate_last_run_exit_code${labels()}`), 0);
        assert.equal(s.get(`da_rotate_last_run_requests${labels()}`), (summary.health as { requests: number }).requests);
        assert.ok(s.get(`da_rotate_last_run_requests${labels()}`)! > 12);
        assert.equal(s.get(`da_rotate_last_run_failed_logins${labels()}`), 0);
        const start = s.get(`da_rotate_last_run_start_time_seconds${labels()}`)!;
        const end = s.get(`da_rotate_last_run_end_time_seconds${labels()}`)!;
        assert.ok(start <= end && end <= Date.now() / 1000 && start > Date.now() / 1000 - 120, `${start} ${end}`);

        // A run refused at login replaces the file: exit 3, the failed login counted, no credential.
        const bad = await runCli(['rotate', '--yes', '--output', join(out, 'bad.csv'), '--metrics-file', file], {
          env: { DA_URL: daUrl(sim, sim.adminUser, 'wrong-password-123') },
        });
        assert.equal(bad.code, 3, bad.stderr);
        const after = daSamples(await (await fetch(exporter.url)).text());
        assert.equal(after.get(`da_rotate_last_run_exit_code${labels()}`), 3);
        assert.ok(after.get(`da_rotate_last_run_failed_logins${labels()}`)! >= 1);
        assert.equal([...after.keys()].filter((k) => k.startsWith('da_rotate_last_run_credentials')).length, 0);
      } finally {
        exporter.child.kill('SIGTERM');
        await exitOf(exporter.child, 10_000);
        await sim.close();
        rmSync(out, { recursive: true, force: true });
        rmSync(textfiles, { recursive: true, force: true });
      }
    });

    it('a usage error still leaves the file, with exit code 2', async () => {
      const textfiles = tempDir('da-rotate-textfile-');
      try {
        const file = join(textfiles, 'da-rotate.prom');
        const r = await runCli(['plan', '--server', 'http://127.0.0.1:9', '--concurrency', '0', '--metrics-file', file], { env: { DA_PASSWORD: 'x' } });
        assert.equal(r.code, 2, r.stderr);
        const exporter = await startExporter(textfiles);
        try {
          const s = daSamples(await (await fetch(exporter.url)).text());
          assert.equal(s.get('da_rotate_last_run_exit_code{command="plan",server="http://127.0.0.1:9"}'), 2);
        } finally {
          exporter.child.kill('SIGTERM');
          await exitOf(exporter.child, 10_000);
        }
      } finally {
        rmSync(textfiles, { recursive: true, force: true });
      }
    });
  },
);
