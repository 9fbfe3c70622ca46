/**
 * kill -9 of a fleet rotation, then `resume --run`: nothing lost on any server. Runs the built CLI
 * (dist/cli.js: `npx tsc -p tsconfig.json` first, as `npm test` does).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { runCli, runUntil } from '../e2e/cli-runner.js';
import { assertReportMatchesServer, passwords, readSummary, tempDir, writeInventory, type FleetSim } from './helpers.js';

const USERS = 300;
const SELECTED = USERS + 4;

function intents(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('"t":"intent"').length - 1;
}

/** Intents journaled so far in every server journal of every fleet run under `out`. */
function journalIntents(out: string): number[] {
  if (!existsSync(out)) return [];
  const counts: number[] = [];
  for (const run of readdirSync(out)) {
    const runDir = join(out, run);
    for (const server of existsSync(join(runDir, 'fleet.json')) ? readdirSync(runDir) : []) {
      counts.push(intents(join(runDir, server, 'rotation.journal.jsonl')));
    }
  }
  return counts;
}

describe('fleet kill -9 then resume --run', { timeout: 180_000 }, () => {
  let sims: FleetSim[];
  let dir: string;

  before(async () => {
    const common = { users: USERS, faults: { latencyMs: 4 } };
    const plain = await startSimulator({ ...common, seed: 21 });
    const tls = await startSimulator({ ...common, seed: 22, tls: true });
    const faulty = await startSimulator({ ...common, seed: 23, faults: { latencyMs: 4, emptyAfterApply: { rate: 0.2 }, resetAfterApply: { rate: 0.05 } } });
    sims = [
      { name: 'plain', sim: plain, secret: plain.adminPassword },
      { name: 'tls', sim: tls, secret: tls.adminPassword },
      { name: 'faulty', sim: faulty, secret: faulty.adminPassword },
    ];
    dir = tempDir();
  });

  after(async () => {
    await Promise.all(sims.map((s) => s.sim.close()));
  });

  it('loses nothing on any server, and resumes only the servers that did not finish', async () => {
    const original = new Map(sims.map((s) => [s.name, passwords(s.sim)]));
    const inv = writeInventory(dir, sims);
    const out = join(dir, 'out');
    const args = [
      'rotate',
      '--inventory',
      inv.file,
      '--output-dir',
      out,
      '--yes',
      '--concurrency',
      '4',
      '--retry-delay',
      '0.01',
      '--retries',
      '6',
      '--log-level',
      'warn',
    ];
    // The journals sit two levels down (run/server/): fs.watch on `out` sees the run directory appear, the
    // 25 ms polling fallback sees the appends.
    const { result: first } = await runUntil(args, { env: inv.env, signal: 'SIGKILL', watch: out, when: () => journalIntents(out).some((n) => n >= 40) });
    assert.equal(first.signal, 'SIGKILL', `the fleet run was not killed (exit ${first.code}): ${first.stderr}`);
    assert.equal(first.code, null);
    const runs = readdirSync(out);
    assert.equal(runs.length, 1);
    const runId = runs[0]!;
    const before = JSON.parse(readFileSync(join(out, runId, 'fleet.json'), 'utf8')) as { servers: Array<{ name: string; status: string }> };
    assert.deepEqual(
      before.servers.map((s) => s.name),
      ['plain', 'tls', 'faulty'],
    );
    const unfinished = before.servers.filter((s) => s.status !== 'ok').map((s) => s.name);
    // A server whose journal had no intent yet when the kill landed sent nothing from the killed run:
    // the new rotation below may take it over, and then the killed run's part there is void.
    const sentNothing = new Set(sims.filter((s) => intents(join(out, runId, s.name, 'rotation.journal.jsonl')) === 0).map((s) => s.name));
    assert.ok(unfinished.length >= 1, 'at least the server being journaled was not finished');

    // A new fleet rotation refuses the servers the killed run left unsettled, and names the run that
    // must be finished: the killed one, never its own id (that line would refuse the same way).
    const refused = await runCli(args, { env: inv.env });
    assert.notEqual(refused.code, 0, refused.stderr);
    const newRun = readdirSync(out).find((d) => d !== runId);
    const printed = /(da-rotate resume --run [^\s;]+ --output-dir [^\s;]+)/.exec(refused.stderr);
    assert.ok(printed, refused.stderr);
    assert.equal(printed[1], `da-rotate resume --run ${runId} --output-dir ${out}`);
    if (newRun) assert.ok(!refused.stderr.includes(`--run ${newRun}`), refused.stderr);
    const takenOver = new Set(
      newRun
        ? (JSON.parse(readFileSync(join(out, newRun, 'fleet.json'), 'utf8')) as { servers: Array<{ name: string; status: string }> }).servers
            .filter((s) => s.status === 'ok' && sentNothing.has(s.name))
            .map((s) => s.name)
        : [],
    );
    for (const s of sims) s.sim.resetStats();

    // The printed line, as printed (plus output flags), finishes the killed run.
    const resumed = await runCli([...printed[1].split(' ').slice(1), '--retry-delay', '0.01', '--retries', '6', '--log-level', 'warn', '--json'], {
      env: inv.env,
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    const result = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as { runId: string; summary: string };
    assert.equal(result.runId, runId);
    // Servers that had finished before the kill were not contacted again.
    for (const s of sims) {
      if (!unfinished.includes(s.name)) assert.equal(s.sim.stats.totalRequests, 0, `${s.name} had finished and was contacted again`);
    }
    const rows = readSummary(result.summary);
    assert.deepEqual(
      rows.map((r) => [r.name, r.status, r.rotated, r.unknown]),
      sims.map((s) => [s.name, 'ok', takenOver.has(s.name) ? '0' : String(SELECTED), '0']),
    );
    for (const s of sims) {
      // A server the new rotation took over: its passwords are in that run's report.
      const report = takenOver.has(s.name) ? join(out, newRun!, s.name, 'rotation.csv') : rows.find((r) => r.name === s.name)?.report;
      assert.ok(report, `${s.name}: a report in the summary`);
      assert.deepEqual(assertReportMatchesServer(s.sim, report, original.get(s.name)!, s.name), { rotated: SELECTED });
    }

    const again = await runCli(['resume', '--run', runId, '--output-dir', out, '--log-level', 'warn'], { env: inv.env });
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /nothing to resume/);
  });
});
