/**
 * `unknown` only after a send (issue 28): a credential is `unknown` only when a request that may
 * have applied its change was sent, and every credential whose change was sent is rotated, revoked,
 * failed or unknown, never `not-started`. Measured, not trusted: the simulator counts the change
 * requests it received (account passwords, key deletions and session ends each have a command of
 * their own), and the report's attempts must add up to that count whatever the point at which the
 * run stops (a stop, a deadline, an abort on a refusal), in rotate and in the resume after it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fcSeed } from '../seed.js';
import { RunInterrupted } from '../../src/errors.js';
import { readJournal } from '../../src/rotation/journal.js';
import { rowsFromJournal } from '../../src/rotation/report.js';
import { runResume, runRotation, StopSignal } from '../../src/rotation/run.js';
import type { WorkSettings } from '../../src/rotation/settings.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { reportCells, silentContext, simConnection } from './simulator-fixtures.js';

let root = '';
before(() => (root = mkdtempSync(join(tmpdir(), 'da-rotate-unknown-'))));
after(() => rmSync(root, { recursive: true, force: true }));

/** The change requests of the kinds swept here: one per attempt, and nothing else uses these commands. */
const CHANGES = ['CMD_API_USER_PASSWD', '/api/login-keys/keys/{id}', '/api/sessions/destroy/{public_id}'];

function changesSent(sim: Simulator): number {
  return CHANGES.reduce((n, c) => n + (sim.stats.requests[c] ?? 0), 0);
}

interface Row {
  kind: string;
  username: string;
  credential: string;
  status: string;
  attempts: number;
}

function reportRows(path: string): Row[] {
  return reportCells(path)
    .filter((r) => r.status !== 'skipped')
    .map((r) => ({ kind: r.kind!, username: r.username!, credential: r.credential!, status: r.status!, attempts: Number(r.attempts) }));
}

/** The rule, row by row and in sum: attempts add up to the changes the server received. */
function assertTruthful(rows: Row[], sent: number, what: string): void {
  for (const r of rows) {
    const id = `${r.kind}:${r.username}:${r.credential}`;
    if (r.status === 'unknown') assert.ok(r.attempts >= 1, `${what}: ${id} is unknown with ${r.attempts} attempts`);
    if (r.status === 'not-started') assert.equal(r.attempts, 0, `${what}: ${id} is not-started after ${r.attempts} attempts`);
  }
  const attempts = rows.reduce((n, r) => n + r.attempts, 0);
  assert.equal(attempts, sent, `${what}: the report counts ${attempts} attempts, the server received ${sent} changes`);
}

const baseWork: WorkSettings = { concurrency: 4, retries: 2, retryDelayMs: 1, maxFailures: 0, settle: 'verify' };

async function rotateStoppedAfter(sim: Simulator, dir: string, stopAfter: number, resumeStopAfter: number | undefined, maxFailures: number): Promise<void> {
  // --max-failures stops the run from inside (a halt like an abort after a refusal or a deadline).
  const work = { ...baseWork, maxFailures };
  const output = join(dir, 'r.csv');
  const stop = new StopSignal();
  // The stop comes when the server has received this many changes: the run is mid-flight, with
  // intents journaled ahead, a canary or a retry waiting.
  const watch = setInterval(() => {
    if (changesSent(sim) >= stopAfter) stop.stop();
  }, 1);
  try {
    const ended = await runRotation(
      {
        mode: 'rotate',
        connection: simConnection(sim),
        selection: { scope: 'users', exclude: [], only: undefined, include: ['login-key', 'session', 'account'] },
        policy: { length: 22, symbols: false },
        work,
        output,
        yes: true,
        stateDir: join(dir, 'state'),
      },
      silentContext(stop),
    ).catch((e: unknown) => e);
    if (ended instanceof RunInterrupted) {
      // Stopped while listing: nothing was changed, nothing is left to resume.
      assert.equal(changesSent(sim), 0);
      return;
    }
    if (ended instanceof Error) throw ended;
  } finally {
    clearInterval(watch);
  }
  const sentByRotate = changesSent(sim);
  assertTruthful(reportRows(output), sentByRotate, `rotate stopped after ${stopAfter}`);
  // What every later reader of the journal rebuilds (a fleet's counts, a resume's report) agrees.
  const journalPath = join(dir, 'r.journal.jsonl');
  const rebuilt = rowsFromJournal(readJournal(journalPath), { includePending: true, secretOf: () => undefined }).filter((r) => r.status !== 'skipped');
  for (const r of rebuilt) {
    if (r.status === 'unknown')
      assert.ok(r.attempts >= 1, `journal of rotate stopped after ${stopAfter}: ${r.kind}:${r.username}:${r.credential} unknown with 0 attempts`);
  }

  // The resume, itself stopped (or not): its rows count on from the earlier run's attempts, so the
  // final report adds up with every change both runs sent.
  const rstop = new StopSignal();
  const rwatch = setInterval(() => {
    if (resumeStopAfter !== undefined && changesSent(sim) >= sentByRotate + resumeStopAfter) rstop.stop();
  }, 1);
  try {
    const ended = await runResume(
      { journal: journalPath, connection: simConnection(sim), work: baseWork, stateDir: join(dir, 'state') },
      silentContext(rstop),
    ).catch((e: unknown) => e);
    if (ended instanceof RunInterrupted) return;
    if (ended instanceof Error) throw ended;
  } finally {
    clearInterval(rwatch);
  }
  assertTruthful(reportRows(output), changesSent(sim), `resume stopped after ${resumeStopAfter ?? 'none'}`);
}

describe('unknown only after a send', { timeout: 240_000 }, () => {
  const layout: SimulatorOptions = { users: 10, resellers: 0, suspendedEvery: 0, loginKeysPerUser: 2, sessionsPerUser: 1 };

  it('a stop at any point of rotate (a signal, or --max-failures) and of the resume after it: every row adds up with what the server received', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 35 }),
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        fc.constantFrom<SimulatorOptions['faults']>(
          { latencyMs: 2 },
          { latencyMs: 2, error500: { rate: 0.3 } },
          { latencyMs: 2, resetBeforeApply: { rate: 0.3 } },
          { latencyMs: 2, resetAfterApply: { rate: 0.3 } },
        ),
        fc.constantFrom(0, 0, 1, 3),
        async (stopAfter, resumeStopAfter, faults, maxFailures) => {
          const sim = await startSimulator({ ...layout, faults });
          const dir = mkdtempSync(join(root, 'run-'));
          try {
            await rotateStoppedAfter(sim, dir, stopAfter, resumeStopAfter, maxFailures);
          } finally {
            await sim.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 25, seed: fcSeed(28) },
    );
  });
});

describe('a resume whose login may not use a kind', { timeout: 60_000 }, () => {
  it('leaves the changes an earlier run may have applied unknown, with their secret and attempts, never not-started', async () => {
    const sim = await startSimulator({ users: 6, resellers: 0, suspendedEvery: 0, keyRefusal: '403' });
    const dir = mkdtempSync(join(root, 'kind-'));
    try {
      const output = join(dir, 'r.csv');
      const stateDir = join(dir, 'state');
      // Every answer to a change is lost after it applied, and nothing proves it: all unknown.
      sim.setFaults({ resetAfterApply: { rate: 1, commands: ['CMD_API_USER_PASSWD'] } });
      const first = await runRotation(
        {
          mode: 'rotate',
          connection: simConnection(sim),
          selection: { scope: 'users', exclude: [], only: undefined, include: ['account'] },
          policy: { length: 22, symbols: false },
          work: { ...baseWork, retries: 0, settle: 'resend' },
          output,
          yes: true,
          stateDir,
        },
        silentContext(new StopSignal()),
      );
      assert.equal(first.counts.unknown, 6, JSON.stringify(first.counts));
      sim.setFaults({});
      // The resume logs in with a key that may list accounts but not change or verify passwords.
      const key = 'K'.repeat(64);
      sim.addLoginKey(sim.adminUser, { key, commands: ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS'] });
      const resumed = await runResume(
        { journal: join(dir, 'r.journal.jsonl'), connection: { ...simConnection(sim), secret: key }, work: baseWork, stateDir },
        silentContext(new StopSignal()),
      );
      assert.equal(resumed.counts.unknown, 6, JSON.stringify(resumed.counts));
      const rows = reportCells(output);
      for (const r of rows.filter((x) => x.status !== 'skipped')) {
        assert.equal(r.status, 'unknown', `${r.username}: ${r.status} (${r.error})`);
        assert.ok(Number(r.attempts) >= 1, `${r.username}: ${r.attempts} attempts`);
        // The password the server has now is the one the report keeps.
        assert.equal(r.password, sim.password(r.username!), `${r.username}: the live password is not in the report`);
      }
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a change refused with the whole run', { timeout: 60_000 }, () => {
  it('a login key that runs out of uses mid-run: the changes it refused are failed (sent, nothing applied), never not-started, and a resume does them', async () => {
    const sim = await startSimulator({ users: 10, resellers: 0, suspendedEvery: 0 });
    const dir = mkdtempSync(join(root, 'uses-'));
    try {
      const output = join(dir, 'r.csv');
      const stateDir = join(dir, 'state');
      // 2 uses to connect and list, 5 changes; the requests in flight after those are refused at login.
      const key = 'K'.repeat(64);
      sim.addLoginKey(sim.adminUser, { key, maxUses: 7 });
      const first = await runRotation(
        {
          mode: 'rotate',
          connection: { ...simConnection(sim), secret: key },
          selection: { scope: 'users', exclude: [], only: undefined, include: ['account'] },
          policy: { length: 22, symbols: false },
          work: { ...baseWork, concurrency: 4 },
          output,
          yes: true,
          stateDir,
        },
        silentContext(new StopSignal()),
      );
      assert.equal(first.exitCode, 3, JSON.stringify(first.counts));
      const sent = sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0;
      const rows = reportRows(output);
      assertTruthful(rows, sent, 'a key out of uses');
      const refused = rows.filter((r) => r.status === 'failed');
      assert.equal(refused.length, sent - 5, `the ${sent - 5} changes refused at login are failed: ${JSON.stringify(first.counts)}`);
      assert.equal(rows.filter((r) => r.status === 'rotated').length, 5);
      // A new key: the resume changes every credential not rotated, the refused ones included.
      const resumed = await runResume(
        { journal: join(dir, 'r.journal.jsonl'), connection: simConnection(sim), work: baseWork, stateDir },
        silentContext(new StopSignal()),
      );
      assert.equal(resumed.exitCode, 0, JSON.stringify(resumed.counts));
      const parsed = reportCells(output);
      for (const r of parsed.filter((x) => x.status !== 'skipped')) {
        assert.equal(r.status, 'rotated', `${r.username}: ${r.status}`);
        assert.equal(r.password, sim.password(r.username!), `${r.username}: the live password is the report's`);
      }
    } finally {
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
