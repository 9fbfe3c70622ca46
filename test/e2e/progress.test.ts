/**
 * Progress from the first second: on a terminal a plan that lists for seconds (105 accounts at 40 ms
 * a request, every kind) shows that it is logging in, then what it has listed so far, before the
 * listing ends, instead of nothing until its summary.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { CLI, daUrl, exitOf, hasScript, tempDir } from './cli-runner.js';

describe('progress before the first change', { timeout: 120_000, skip: !hasScript && 'util-linux script is not installed' }, () => {
  it('a plan at 40 ms latency shows a login line, then listing counts while it lists', async () => {
    const sim = await startSimulator({ users: 105, resellers: 0, faults: { latencyMs: 40 } });
    const out = tempDir();
    try {
      const args = ['plan', '--scope', 'all', '--include', 'all', '--output', join(out, 'plan.csv')];
      const started = Date.now();
      const child = spawn('script', ['-qec', `${process.execPath} ${CLI} ${args.map((a) => `'${a}'`).join(' ')}`, '/dev/null'], {
        env: { ...process.env, DA_URL: daUrl(sim) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let text = '';
      let firstProgressMs: number | undefined;
      let summaryMs: number | undefined;
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (firstProgressMs === undefined && /logging in to http/.test(text)) firstProgressMs = Date.now() - started;
        if (summaryMs === undefined && /Plan finished/.test(text)) summaryMs = Date.now() - started;
      });
      assert.equal(await exitOf(child), 0, text);
      const lines = text.split(/\r|\n/).map((l) => l.replace(/\x1b\[K/g, ''));
      const planned = Number(/planned (\d+)/.exec(text)?.[1]);
      assert.ok(planned > 300, text);
      const login = lines.findIndex((l) => /^logging in to http:\/\/127\.0\.0\.1:\d+\.\.\.$/.test(l));
      const listing = lines
        .map((l, i) => ({ i, m: /^listing: 106 account\(s\), (\d+) credential\(s\) so far \((\d+)%\)$/.exec(l) }))
        .filter((x) => x.m !== null);
      const summary = lines.findIndex((l) => l.startsWith('Plan finished'));
      assert.ok(login >= 0 && login < summary, text);
      // Lines drawn while the listing went on: fewer credentials than it found in the end, in order.
      assert.ok(listing.length >= 2, text);
      assert.ok(listing[0]!.i > login && listing.at(-1)!.i < summary, text);
      assert.ok(Number(listing[0]!.m![1]) < planned, text);
      const counts = listing.map((x) => Number(x.m![1]));
      assert.deepEqual(
        counts,
        [...counts].sort((a, b) => a - b),
      );
      // The first line came well before the summary (the listing alone takes seconds).
      assert.ok(firstProgressMs !== undefined && summaryMs !== undefined && firstProgressMs < summaryMs, `${firstProgressMs} ${summaryMs}`);
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
