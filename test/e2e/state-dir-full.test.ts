/**
 * Issue 25: a full state directory is a clean stop, never "internal error" (exit 4). The lock's
 * temp file failing comes before any request: exit 2 naming it. The last-run record failing comes
 * after the journal exists: exit 3 with the resume line, and the resume finishes once space is
 * back. A disk-full report keeps only whole rows. Driven in-process through src/files.ts's test seam.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realFileSystem, setFileSystemForTests } from '../../src/files.js';
import { parseReport } from '../../src/rotation/report-parse.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runInProcess } from '../fleet/helpers.js';
import { daUrl } from './cli-runner.js';

let root = '';
let sim: Simulator;
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'da-rotate-statefull-'));
  sim = await startSimulator({ users: 40, resellers: 0, suspendedEvery: 0 });
});
after(async () => {
  await sim.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => setFileSystemForTests(undefined));

/** Every write to a file whose path contains `part` fails with `errno` (after `budget` bytes). */
function failWrites(part: string, errno: string, budget = 0): void {
  let left = budget;
  setFileSystemForTests({
    write: async (path, handle, data) => {
      if (!path.includes(part)) return realFileSystem.write(path, handle, data);
      if (left <= 0) throw Object.assign(new Error(`${errno} (injected)`), { code: errno });
      const n = Math.min(left, data.length);
      left -= n;
      return realFileSystem.write(path, handle, data.subarray(0, n));
    },
  });
}

describe('a full state directory', { timeout: 120_000 }, () => {
  it('the lock cannot be written: exit 2 before any request, naming the file', async () => {
    const dir = mkdtempSync(join(root, 'lock-'));
    const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(dir, 'state') };
    const requests = sim.stats.totalRequests;
    failWrites('.lock', 'ENOSPC');
    const r = await runInProcess('rotate', { yes: true, output: join(dir, 'r.csv'), 'log-level': 'silent' }, env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot create .*da-rotate.*\.lock.*no space left on device/);
    assert.equal(sim.stats.totalRequests, requests, 'no request was sent');
  });

  for (const errno of ['ENOSPC', 'EIO', 'EACCES']) {
    it(`the last-run record fails (${errno}) after the journal exists: exit 3 with the resume line; resume finishes`, async () => {
      const dir = mkdtempSync(join(root, 'last-'));
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(dir, 'state') };
      const output = join(dir, 'r.csv');
      const journal = join(dir, 'r.journal.jsonl');
      failWrites('last-run', errno);
      const r = await runInProcess('rotate', { yes: true, output, 'log-level': 'silent' }, env);
      setFileSystemForTests(undefined);
      assert.equal(r.code, 3, r.stderr);
      assert.ok(!r.stderr.includes('internal error'), r.stderr);
      assert.match(r.stderr, /last-run\.json/);
      assert.ok(r.stderr.includes(`da-rotate resume ${journal}`), r.stderr);
      const resumed = await runInProcess('resume', { journal, yes: true, 'log-level': 'silent' }, env);
      assert.equal(resumed.code, 0, resumed.stderr);
      const rows = parseReport(readFileSync(output, 'utf8'), output).filter((x) => x.status !== 'skipped');
      assert.equal(rows.length, 40);
      for (const row of rows) assert.equal(sim.password(row.username), row.password);
    });
  }
});

describe('a report on a disk that fills', { timeout: 120_000 }, () => {
  for (const budget of [0, 700, 3_000]) {
    it(`after ${budget} bytes: only whole rows are left, the parser reads it back`, async () => {
      const dir = mkdtempSync(join(root, 'report-'));
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(dir, 'state') };
      const output = join(dir, 'r.csv');
      failWrites('r.csv', 'ENOSPC', budget);
      const r = await runInProcess('rotate', { yes: true, output, 'log-level': 'silent' }, env);
      setFileSystemForTests(undefined);
      assert.equal(r.code, 3, r.stderr);
      // A run that stops before sending anything removes the files it created: no report is whole too.
      const text = existsSync(output) ? readFileSync(output, 'utf8') : '';
      assert.ok(text === '' || text.endsWith('\n'), `the report ends mid-row: ${JSON.stringify(text.slice(-40))}`);
      if (text !== '') parseReport(text, output); // whole rows: no torn row refused
    });
  }
});
