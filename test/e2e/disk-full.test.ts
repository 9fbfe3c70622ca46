/**
 * Issues 10 (item 0) and 17, at the level of a whole run: the disk fills under the journal (or the
 * report) mid-run. Nothing may be sent for an intent that is not fully on disk, no live password may
 * exist outside the journal, the run stops with exit 3 and the one line naming the file and the way
 * on, and `resume` finishes once space is back. The run is driven in-process so the file system can
 * be faulted through src/files.ts's test seam (a short write first, then ENOSPC or EIO: what a
 * filling disk does).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { RunAborted } from '../../src/errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realFileSystem, setFileSystemForTests } from '../../src/files.js';
import { readJournal } from '../../src/rotation/journal.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { runResume, runRotation } from '../../src/rotation/run.js';
import type { WorkSettings } from '../../src/rotation/settings.js';
import { startSimulator } from '../../src/simulator/index.js';
import { silentContext, simConnection } from './simulator-fixtures.js';

let root = '';
before(() => (root = mkdtempSync(join(tmpdir(), 'da-rotate-diskfull-'))));
after(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => setFileSystemForTests(undefined));

const work: WorkSettings = { concurrency: 8, retries: 3, retryDelayMs: 1, maxFailures: 0, settle: 'verify' };

/** The file system fills once `budget` more bytes went to files whose name ends in `suffix`: one short write, then `errno`. */
function fillAfter(suffix: string, budget: number, errno: 'ENOSPC' | 'EIO'): void {
  let left = budget;
  setFileSystemForTests({
    write: async (path, handle, data) => {
      if (!path.endsWith(suffix)) return realFileSystem.write(path, handle, data);
      if (left <= 0) throw Object.assign(new Error(`${errno} (injected)`), { code: errno });
      const n = Math.min(left, data.length);
      left -= n;
      return realFileSystem.write(path, handle, data.subarray(0, n));
    },
  });
}

/** `early`: the fault comes while requests are still to be sent, so the run must stop before the end. */
const cases: Array<{ file: string; budget: number; errno: 'ENOSPC' | 'EIO'; early: boolean }> = [
  { file: '.journal.jsonl', budget: 19_000, errno: 'ENOSPC', early: true },
  { file: '.journal.jsonl', budget: 41_000, errno: 'EIO', early: true },
  { file: '.csv', budget: 0, errno: 'ENOSPC', early: true },
  // Rows are written in batches: here the report fails only when it is closed, after every change.
  { file: '.csv', budget: 3_000, errno: 'ENOSPC', early: false },
];

describe('a disk that fills mid-run', { timeout: 120_000 }, () => {
  for (const c of cases) {
    it(`${c.errno} on the ${c.file === '.csv' ? 'report' : 'journal'} after ${c.budget} bytes: exit 3 with the resume line, no live password outside the journal, resume finishes`, async () => {
      const sim = await startSimulator({ users: 300, resellers: 0, suspendedEvery: 0, faults: { latencyMs: 2 } });
      const dir = mkdtempSync(join(root, 'run-'));
      try {
        const original = new Map(sim.accounts().map((a) => [a.username, a.password]));
        const output = join(dir, 'r.csv');
        const journalPath = join(dir, 'r.journal.jsonl');
        fillAfter(c.file, c.budget, c.errno);
        const ended = await runRotation(
          {
            mode: 'rotate',
            connection: simConnection(sim),
            selection: { scope: 'users', exclude: [], only: undefined, include: ['account'] },
            policy: { length: 22, symbols: false },
            work,
            output,
            yes: true,
            stateDir: join(dir, 'state'),
          },
          silentContext(),
        ).then(
          (s) => s,
          (e: unknown) => e,
        );
        setFileSystemForTests(undefined);
        const stoppedBeforeSending = ended instanceof RunAborted;
        if (!stoppedBeforeSending && ended instanceof Error) throw ended;
        const summary = stoppedBeforeSending ? undefined : (ended as Awaited<ReturnType<typeof runRotation>>);
        assert.equal(stoppedBeforeSending ? ended.exitCode : summary!.exitCode, 3, JSON.stringify(summary));
        const what = c.errno === 'ENOSPC' ? 'no space left on device' : 'input/output error';
        const said = stoppedBeforeSending ? ended.message : (summary!.aborted ?? summary!.reportError ?? '');
        assert.ok(said.includes(what), said);
        assert.ok(said.includes(` writing ${c.file === '.csv' ? output : journalPath}`), said);
        if (stoppedBeforeSending) {
          // The report failed before the first change left: the run removed what it created, said
          // so, and the same command runs again (no resume line, nothing to resume).
          assert.ok(said.includes('nothing was sent') && said.includes('removed'), said);
          assert.ok(!said.includes('da-rotate resume'), said);
          assert.ok(!existsSync(journalPath) && !existsSync(output), 'both files removed');
          for (const [user, before] of original) assert.equal(sim.password(user), before, `${user}: changed although nothing was sent`);
          const again = await runRotation(
            {
              mode: 'rotate',
              connection: simConnection(sim),
              selection: { scope: 'users', exclude: [], only: undefined, include: ['account'] },
              policy: { length: 22, symbols: false },
              work,
              output,
              yes: true,
              stateDir: join(dir, 'state'),
            },
            silentContext(),
          );
          assert.equal(again.exitCode, 0, JSON.stringify(again));
          for (const row of readReport(output).filter((r) => r.status !== 'skipped')) assert.equal(sim.password(row.username), row.password);
          return;
        }
        assert.ok(said.includes(`da-rotate resume ${journalPath}`), said);
        assert.equal(summary!.resumeCommand, `da-rotate resume ${journalPath}`);

        // Every password the server now has that it did not have before is in the journal.
        const journal = readJournal(journalPath);
        const journaled = new Set([...journal.intents.values()].map((i) => i.pw));
        let changed = 0;
        for (const [user, before] of original) {
          const live = sim.password(user)!;
          if (live === before) continue;
          changed++;
          assert.ok(journaled.has(live), `${user}: a live password that is not in the journal`);
        }
        if (c.early) assert.ok(changed < 300, 'the run stopped before the end');

        // Space is back: resume settles the rest from the journal, losing nothing.
        const resumed = await runResume({ journal: journalPath, connection: simConnection(sim), work, stateDir: join(dir, 'state') }, silentContext());
        assert.equal(resumed.exitCode, 0, resumed.aborted);
        const rows = readReport(output).filter((r) => r.status !== 'skipped');
        assert.equal(rows.length, 300);
        for (const row of rows) {
          assert.equal(row.status, 'rotated', `${row.username}: ${row.status}`);
          assert.equal(sim.password(row.username), row.password, `${row.username}: live password is the report's`);
        }
      } finally {
        await sim.close().catch(() => undefined);
      }
    });
  }
});
