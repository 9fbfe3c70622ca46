import { lockPathForServer, stateDirFor } from '../../src/rotation/lock.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report.js';
import { readJournal } from '../../src/rotation/journal.js';
import { daUrl, runCli, summaryOf, tempDir, type CliResult } from './helpers.js';

function countIntents(path: string): number {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  let n = 0;
  for (let i = text.indexOf('"t":"intent"'); i !== -1; i = text.indexOf('"t":"intent"', i + 1)) n++;
  return n;
}

/** Runs the CLI and SIGKILLs it once `after` more intents than `base` are in the journal. */
async function runAndKill(args: string[], env: Record<string, string>, journal: string, after: number): Promise<{ killed: boolean; result: CliResult }> {
  const base = countIntents(journal);
  let child: ChildProcess | undefined;
  let killed = false;
  const timer = setInterval(() => {
    if (child && !killed && countIntents(journal) >= base + after) {
      killed = child.kill('SIGKILL');
    }
  }, 2);
  try {
    const result = await runCli(args, { env, onSpawn: (c) => (child = c) });
    return { killed: killed && result.signal === 'SIGKILL', result };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Zero lost credentials: every account whose live password changed has exactly that password in
 * the report as rotated; every other account still has its original password.
 */
function assertNoLostCredential(sim: Simulator, report: string, original: Map<string, string>): Map<string, string> {
  const rows = readReport(report);
  const byUser = new Map(rows.map((r) => [r.username, r]));
  const statuses = new Map<string, string>();
  for (const [name, old] of original) {
    const live = sim.password(name);
    const row = byUser.get(name);
    if (name === sim.adminUser) {
      assert.equal(live, old, 'the admin is never rotated');
      continue;
    }
    if (!row) {
      assert.equal(live, old, `${name}: not in the report, so it must be untouched`);
      continue;
    }
    statuses.set(name, row.status);
    if (live !== old) {
      assert.equal(row.password, live, `${name}: the live password must be the report's`);
      assert.equal(row.status, 'rotated', `${name}: changed on the server, so reported rotated`);
    } else {
      assert.notEqual(row.status, 'rotated', `${name}: reported rotated but untouched`);
    }
  }
  return statuses;
}

async function crashAndResume(options: SimulatorOptions, kills: number): Promise<void> {
  const sim = await startSimulator(options);
  const out = tempDir();
  try {
    const original = new Map(sim.accounts().map((a) => [a.username, a.password]));
    const env = { DA_URL: daUrl(sim) };
    const report = join(out, 'crash.csv');
    const journal = join(out, 'crash.journal.jsonl');
    const work = ['--yes', '--concurrency', '16', '--retry-delay', '0.01', '--retries', '6', '--log-level', 'warn'];
    let done = 0;
    let first = true;
    let guard = 0;
    while (done < kills) {
      assert.ok(guard++ < kills * 3, 'the run kept finishing before it could be killed');
      const after = 5 + Math.floor(Math.random() * 35);
      const args = first ? ['rotate', '--scope', 'all', '--output', report, ...work] : ['resume', journal, ...work];
      const { killed, result } = await runAndKill(args, env, journal, after);
      if (!killed) assert.ok(result.code === 0 || result.code === 1, `run ended on its own with ${result.code}: ${result.stderr}`);
      first = false;
      if (killed) done++;
      // Between kills the report may lag behind the journal, but the journal never loses an intent.
      const state = readJournal(journal);
      for (const [user, intent] of state.intents) {
        const live = sim.password(user);
        if (live !== original.get(user)) assert.equal(live, intent.pw, `${user}: live password not in the journal`);
      }
    }
    const final = await runCli(['resume', journal, ...work, '--json'], { env });
    assert.equal(final.code, 0, final.stderr);
    const s = summaryOf(final);
    assert.equal(s.report, report);
    const statuses = assertNoLostCredential(sim, report, original);
    const rotated = [...statuses.values()].filter((x) => x === 'rotated').length;
    assert.equal(rotated, original.size - 1, 'every account but the admin ends rotated');
    assert.equal(readReport(report).length, original.size, 'one row per account, the admin as skipped');
    assert.equal(statuses.size, original.size - 1);
  } finally {
    await sim.close();
    rmSync(out, { recursive: true, force: true });
  }
}

describe('crash safety', () => {
  it('loses no credential when killed with SIGKILL 10 times over 520 accounts', async () => {
    await crashAndResume({ users: 510, resellers: 5, extraAdmins: 1, faults: { latencyMs: 4, jitterMs: 6 } }, 10);
  });

  it('loses no credential when killed 10 times with empty answers and resets after apply', async () => {
    await crashAndResume(
      { users: 510, resellers: 5, extraAdmins: 1, faults: { latencyMs: 4, jitterMs: 6, emptyAfterApply: { rate: 0.15 }, resetAfterApply: { rate: 0.1 } } },
      10,
    );
  });
});

describe('interruption, lock, verify', () => {
  it('SIGINT settles in-flight work, prints the resume command, exits 130; the command finishes the job', async () => {
    const sim = await startSimulator({ users: 300, resellers: 0, faults: { latencyMs: 20 } });
    const out = tempDir();
    try {
      const original = new Map(sim.accounts().map((a) => [a.username, a.password]));
      const env = { DA_URL: daUrl(sim) };
      const journal = join(out, 'int.journal.jsonl');
      const { result } = await (async () => {
        let child: ChildProcess | undefined;
        let sent = false;
        const timer = setInterval(() => {
          if (child && !sent && countIntents(journal) >= 30) sent = child.kill('SIGINT');
        }, 2);
        try {
          return { result: await runCli(['rotate', '--yes', '--concurrency', '4', '--output', join(out, 'int.csv')], { env, onSpawn: (c) => (child = c) }) };
        } finally {
          clearInterval(timer);
        }
      })();
      assert.equal(result.code, 130, result.stderr);
      const m = /To finish: (da-rotate resume .*)$/m.exec(result.stderr);
      assert.ok(m, result.stderr);
      assert.ok(!m[1]!.includes(sim.adminPassword));
      const state = readJournal(journal);
      assert.ok(state.outcomes.size < 300, 'stopped early');
      for (const u of state.intents.keys()) assert.ok(state.outcomes.has(u), `${u}: in-flight request settled before exit`);
      const args = m[1]!.split(' ').slice(1).map((a) => a.replace(/^'|'$/g, ''));
      const resumed = await runCli([...args, '--json'], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      const statuses = assertNoLostCredential(sim, join(out, 'int.csv'), original);
      assert.ok(statuses.size > 0 && [...statuses.values()].every((s) => s === 'rotated'), JSON.stringify([...statuses]));
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('a second signal exits at once; the journal still holds every password sent', async () => {
    const sim = await startSimulator({ users: 200, resellers: 0, faults: { latencyMs: 200 } });
    const out = tempDir();
    try {
      const original = new Map(sim.accounts().map((a) => [a.username, a.password]));
      const journal = join(out, 'two.journal.jsonl');
      let child: ChildProcess | undefined;
      let signals = 0;
      const timer = setInterval(() => {
        if (child && signals === 0 && countIntents(journal) >= 16) {
          child.kill('SIGINT');
          signals = 1;
          setTimeout(() => child!.kill('SIGINT'), 20);
        }
      }, 2);
      const r = await runCli(['rotate', '--yes', '--concurrency', '8', '--output', join(out, 'two.csv')], { env: { DA_URL: daUrl(sim) }, onSpawn: (c) => (child = c) });
      clearInterval(timer);
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /second signal/);
      const state = readJournal(journal);
      for (const [user, live] of sim.accounts().map((a) => [a.username, a.password] as const)) {
        if (live !== original.get(user)) assert.equal(state.intents.get(user)?.pw, live, `${user}: changed but not journaled`);
      }
      const resumed = await runCli(['resume', journal, '--yes'], { env: { DA_URL: daUrl(sim) } });
      assert.equal(resumed.code, 0, resumed.stderr);
      assertNoLostCredential(sim, join(out, 'two.csv'), original);
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses to start on top of a live run, takes over a stale lock', async () => {
    const sim = await startSimulator({ users: 5, resellers: 0 });
    const out = tempDir();
    try {
      const port = new URL(sim.url).port;
      // The lock is per server in the state directory, wherever the reports go.
      void port;
      const lock = lockPathForServer(stateDirFor(process.env), sim.url);
      mkdirSync(stateDirFor(process.env), { recursive: true, mode: 0o700 });
      writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), server: sim.url }), { mode: 0o600 });
      const held = await runCli(['rotate', '--yes', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(held.code, 3, held.stderr);
      assert.ok(held.stderr.includes(String(process.pid)), held.stderr);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
      writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), startedAt: new Date().toISOString(), server: sim.url }), { mode: 0o600 });
      const stale = await runCli(['rotate', '--yes', '--output', join(out, 'b.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(stale.code, 0, stale.stderr);
      assert.match(stale.stderr, /stale lock/);
      assert.equal(existsSync(lock), false, 'released at the end');
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('verify lists drift and changes nothing; resume refuses another server', async () => {
    const sim = await startSimulator({ users: 20, resellers: 0 });
    const other = await startSimulator({ users: 1, resellers: 0 });
    const out = tempDir();
    try {
      const env = { DA_URL: daUrl(sim) };
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'v.csv')], { env });
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      const clean = await runCli(['verify', s.report, '--json'], { env });
      assert.equal(clean.code, 0, clean.stderr);
      const victim = readReport(s.report).find((x) => x.status === 'rotated')!.username;
      sim.setPassword(victim, 'ChangedBySomeone1');
      const writesBefore = sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0;
      const drift = await runCli(['verify', s.report, '--json'], { env });
      assert.equal(drift.code, 1);
      assert.deepEqual((JSON.parse(drift.stdout) as { drift: string[] }).drift, [victim]);
      assert.match(drift.stderr, new RegExp(victim));
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, writesBefore);
      const wrong = await runCli(['resume', s.journal!, '--yes'], { env: { DA_URL: daUrl(other) } });
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /belongs to/);
      assert.equal(other.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
    } finally {
      await sim.close();
      await other.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
