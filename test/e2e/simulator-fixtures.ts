/**
 * The simulator side of e2e tests: a simulator and an output directory per test (gone afterwards
 * whatever happens), events on the simulator's counters, checks of what a run left behind (live
 * passwords against the report, journal records, report cells), and the context and connection of
 * a run in this process. Running the CLI itself is in cli-runner.ts.
 */
import { readFileSync, rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { parse as parseCsv } from 'csv-parse/sync';
import { createLogger, SecretRegistry } from '../../src/log.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { StopSignal, type RunContext } from '../../src/rotation/run.js';
import type { ConnectionSettings } from '../../src/rotation/settings.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { tempDir } from './cli-runner.js';

/**
 * A simulator and an output directory for one test, both gone afterwards whatever happens. A failure
 * names the simulator's seed: the dot reporter drops what a test prints, and a faulted run is replayed by it.
 */
export async function withSim<T>(options: SimulatorOptions, fn: (sim: Simulator, out: string) => Promise<T>): Promise<T> {
  const sim = await startSimulator(options);
  const out = tempDir();
  try {
    return await fn(sim, out);
  } catch (e) {
    if (e instanceof Error && options.seed !== undefined)
      e.message += `\n(simulator seed ${options.seed}; DA_ROTATE_SEED=${options.seed} replays a test that draws its seed)`;
    throw e;
  } finally {
    await sim.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/** Every account's password now, by name. */
export function snapshot(sim: Simulator): Map<string, string> {
  return new Map(sim.accounts().map((a) => [a.username, a.password]));
}

/**
 * Calls `fn` (once) in the simulator's own code when the counter `key` of `counters` (sim.stats,
 * sim.stats.faultsFired) reaches `n`: an event, not a poll, so the moment is exact.
 */
export function whenCount(counters: object, key: string, n: number, fn: () => void): void {
  const record = counters as Record<string, number | undefined>;
  let value = record[key];
  let fired = false;
  Object.defineProperty(record, key, {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (v: number) => {
      value = v;
      if (!fired && v >= n) {
        fired = true;
        fn();
      }
    },
  });
}

/** whenCount on the simulator's top-level counters. */
export function whenStat(sim: Simulator, stat: 'passwordChangesApplied' | 'totalRequests' | 'failedLogins', n: number, fn: () => void): void {
  whenCount(sim.stats, stat, n, fn);
}

/**
 * Zero lost credentials: every account whose live password changed has exactly that password in
 * the report as rotated; every other account still has its original password. Returns each
 * reported account's status.
 */
export function assertNoLostCredential(sim: Simulator, report: string, original: Map<string, string>): Map<string, string> {
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

/** How many records of type `t` ('intent', 'outcome', ...) a journal holds now (0 before it exists). */
export function journalRecordCount(path: string, t: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 0;
  }
  const needle = `"t":"${t}"`;
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

/** How many intent records the journal holds (0 while it does not exist). */
export function countIntents(journal: string): number {
  return journalRecordCount(journal, 'intent');
}

/** Every cell of a report by column name, as written (readReport keeps only what resume and verify need). */
export function reportCells(path: string): Array<Record<string, string>> {
  return parseCsv<Record<string, string>>(readFileSync(path, 'utf8'), { columns: true });
}

/** For runs in this process (runRotation, runResume): a silent context, stopped through `stop`. */
export function silentContext(stop = new StopSignal()): RunContext {
  const secrets = new SecretRegistry();
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  return {
    log: createLogger({ level: 'silent', secrets, destination: sink }),
    secrets,
    stderr: sink,
    interactive: false,
    confirm: () => Promise.resolve(false),
    stop,
  };
}

/** The connection settings of a run in this process against `sim`, as its admin. */
export function simConnection(sim: Simulator): ConnectionSettings {
  const u = new URL(sim.url);
  return {
    baseUrl: sim.url,
    host: u.hostname,
    username: sim.adminUser,
    secret: sim.adminPassword,
    secretSource: 'test',
    tls: {},
    allowHttp: false,
    timeoutMs: 10_000,
    format: 'json',
    warnings: [],
  };
}
