/** Fleet test helpers: simulators, an inventory for them, the app run in-process, and the checks. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { runApp, type AppCommand } from '../../src/app.js';
import { readReport } from '../../src/rotation/report-parse.js';
import type { Simulator } from '../../src/simulator/index.js';
import { privateStateEnv } from '../private-state.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'da-fleet-test-'));
}

export interface FleetSim {
  name: string;
  sim: Simulator;
  /** The secret the inventory's environment variable gives this server. */
  secret: string;
  tags?: string[];
  extra?: string;
}

/** Writes an inventory for the simulators; secrets go in the returned env, never in the file. */
export function writeInventory(dir: string, sims: FleetSim[]): { file: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const parts = ['[defaults]', 'user = "admin"', 'scope = "all"', ''];
  for (const s of sims) {
    const variable = `DA_KEY_${s.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
    env[variable] = s.secret;
    parts.push('[[server]]', `name = "${s.name}"`, `url = "${s.sim.url}"`, `secret_env = "${variable}"`);
    if (s.sim.fingerprint256) parts.push(`fingerprint = "${s.sim.fingerprint256}"`);
    if (s.tags) parts.push(`tags = [${s.tags.map((t) => `"${t}"`).join(', ')}]`);
    if (s.extra) parts.push(s.extra);
    parts.push('');
  }
  const file = join(dir, 'fleet.toml');
  writeFileSync(file, parts.join('\n'));
  return { file, env };
}

export interface AppResult {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** Runs a command the way the CLI does, in this process (stderr is not a terminal). */
export async function runInProcess(command: AppCommand, argv: Record<string, unknown>, env: Record<string, string>): Promise<AppResult> {
  const out = sink();
  const err = sink();
  const stdin = new PassThrough();
  stdin.end();
  const code = await runApp(command, argv, { env: { ...privateStateEnv(), ...env }, stdin, stdout: out.stream, stderr: err.stream, handleSignals: false });
  return { code, stdout: out.text(), stderr: err.text() };
}

export function readSummary(path: string): Array<Record<string, string>> {
  return parse<Record<string, string>>(readFileSync(path, 'utf8'), { columns: true });
}

/**
 * Nothing lost on this server: every account except the admin is in the report; each one whose
 * live password changed is `rotated` with exactly that password; the others kept their original.
 */
export function assertReportMatchesServer(sim: Simulator, report: string, original: Map<string, string>, label: string): Record<string, number> {
  const rows = readReport(report);
  const byUser = new Map(rows.map((r) => [r.username, r]));
  const statuses: Record<string, number> = {};
  for (const [name, old] of original) {
    const live = sim.password(name);
    if (name === sim.adminUser) {
      assert.equal(live, old, `${label}: the admin is never rotated`);
      continue;
    }
    const row = byUser.get(name);
    assert.ok(row, `${label}: ${name} is missing from the report`);
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
    if (live !== old) {
      assert.equal(row.status, 'rotated', `${label}: ${name} changed on the server, so it is reported rotated`);
      assert.equal(row.password, live, `${label}: ${name}: the live password must be the report's`);
    } else {
      assert.notEqual(row.status, 'rotated', `${label}: ${name} is reported rotated but untouched`);
    }
  }
  return statuses;
}

export function passwords(sim: Simulator): Map<string, string> {
  return new Map(sim.accounts().map((a) => [a.username, a.password]));
}
