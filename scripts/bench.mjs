#!/usr/bin/env node
/**
 * `npm run bench`: da-rotate's speed, measured as a user meets it (whole processes, start-up
 * included), against the simulator running in its own process. In one run, side by side (each part
 * a module of scripts/bench/, named in --only):
 *
 *   1. startup: bare `node -e 0`, `--version`, `--help`, a whole `plan` of 3 accounts, and node with
 *      each package of the stack alone (medians)
 *   1b. progress: on a terminal (util-linux `script`), a `plan --scope all --include all` of 105 users
 *      at 40 ms a request: time to its first progress line, first `listing:` line and summary
 *      (median of --startup-runs, at most 5 with --quick; "not available" without `script`),
 *      reported in the start-up section
 *   2. throughput: `rotate` of N accounts at L ms a request, c = 4, 16, 64: whole-process wall time
 *      against the ideal N * L / c, the run's own duration, client CPU per account, peak memory,
 *      a bare undici loop beside each row (scripts/bench/floor.mjs), and the c = 16 case once more
 *      against a plain stand-in that shares no code with the simulator (scripts/bench/standin.mjs)
 *   2b. cpu: client CPU per account, `rotate` of 20 000 accounts at zero latency, whole process
 *   3. scale: peak memory and time of a `plan` of 100 000 accounts
 *   4. auto: `--concurrency auto` against fixed concurrencies on a server that slows by the square
 *      of its overload past capacity C (reported "not available" until the CLI and the simulator
 *      both offer it: `auto` in `rotate --help` next to --concurrency, and the simulator's
 *      --degrade-capacity; the limit the run chose is read from the JSON summary's `concurrency`)
 *   4b. sweep: the incident sweep, every mailbox of --sweep-accounts accounts
 *   4c. fleet: many small servers at once (scripts/bench/fleet.mjs; --fleet no skips it)
 *   5. optional baselines (--baselines yes): the seed's sequential loop and `xargs -P c curl`
 *
 *   node scripts/bench.mjs [--quick] [--accounts 4000] [--latency 20] [--concurrency 4,16,64]
 *                          [--startup-runs 21] [--scale 100000] [--degrade-capacity 24]
 *                          [--degrade-accounts 3000] [--baselines yes] [--runs 3] [--sweep-accounts 1000]
 *                          [--fleet no] [--svg docs/bench.svg]
 *                          [--only startup,progress,throughput,cpu,scale,auto,sweep,fleet]
 *
 * The machine is described in the output (CPUs, model, load average before and after each part):
 * on a shared machine, read the figures with the load beside them. Writes output/bench-<time>.json
 * and .md (scripts/bench/report.mjs). Targets are reported, never asserted.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchAuto } from './bench/auto.mjs';
import { benchBaselines } from './bench/baselines.mjs';
import { load, r1, root } from './bench/common.mjs';
import { benchClientCpu } from './bench/cpu.mjs';
import { benchFleet } from './bench/fleet.mjs';
import { benchProgress } from './bench/progress.mjs';
import { markdownOf, svgOf, targetsOf } from './bench/report.mjs';
import { benchScale } from './bench/scale.mjs';
import { benchStartup } from './bench/startup.mjs';
import { benchSweep } from './bench/sweep.mjs';
import { benchThroughput } from './bench/throughput.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    accounts: { type: 'string' },
    latency: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4,16,64' },
    'startup-runs': { type: 'string' },
    scale: { type: 'string' },
    'degrade-capacity': { type: 'string', default: '24' },
    'degrade-accounts': { type: 'string' },
    baselines: { type: 'string', default: 'no' },
    only: { type: 'string' },
    runs: { type: 'string' },
    'sweep-accounts': { type: 'string' },
    fleet: { type: 'string', default: 'yes' },
    svg: { type: 'string' },
  },
});
const quick = values.quick;
const startupRuns = Number(values['startup-runs'] ?? (quick ? 7 : 21));
/** What every part reads: the options with their defaults (smaller with --quick), and the scratch directory. */
const config = {
  quick,
  accounts: Number(values.accounts ?? (quick ? 1000 : 4000)),
  latencyMs: Number(values.latency),
  levels: values.concurrency.split(',').map(Number),
  startupRuns,
  // Each progress run is a plan of several seconds: --quick keeps it short.
  progressRuns: quick ? Math.min(startupRuns, 5) : startupRuns,
  scale: Number(values.scale ?? (quick ? 20000 : 100000)),
  degradeCapacity: Number(values['degrade-capacity']),
  degradeAccounts: Number(values['degrade-accounts'] ?? (quick ? 1000 : 3000)),
  degradeLevels: quick ? [16, 24, 32, 48] : [8, 16, 24, 32, 48],
  runs: Number(values.runs ?? (quick ? 1 : 3)),
  sweepAccounts: Number(values['sweep-accounts'] ?? (quick ? 300 : 1000)),
  work: mkdtempSync(join(tmpdir(), 'da-rotate-bench-')),
};

/** --only startup,progress,...: run only those parts (for tuning; a full run for figures). */
const ONLY = values.only ? new Set(values.only.split(',')) : undefined;
const part = (name) => !ONLY || ONLY.has(name);
const outDir = join(root, 'output');
mkdirSync(outDir, { recursive: true, mode: 0o700 });

const cpuModel = (() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();
const results = {
  startedAt: new Date().toISOString(),
  quick,
  machine: { nproc: cpus().length, model: cpuModel, memGb: r1(totalmem() / 2 ** 30), node: process.version, loadBefore: load() },
  startup: undefined,
  progress: undefined,
  throughput: { accounts: config.accounts, latencyMs: config.latencyMs, rows: [] },
  zeroLatency: undefined,
  scale: undefined,
  auto: undefined,
  sweep: undefined,
  fleet: undefined,
  baselines: [],
  loads: {},
};

if (part('startup')) await benchStartup(config, results);
if (part('progress')) await benchProgress(config, results);
if (part('throughput')) await benchThroughput(config, results);
if (part('cpu')) await benchClientCpu(config, results);
if (config.scale > 0 && part('scale')) await benchScale(config, results);
if (part('auto')) await benchAuto(config, results);
if (part('sweep')) await benchSweep(config, results);
if (part('fleet') && values.fleet !== 'no') await benchFleet(config, results);
if (values.baselines === 'yes') await benchBaselines(config, results);
results.machine.loadAfter = load();

results.targets = targetsOf(config, results);
const md = markdownOf(config, results);
const stamp = results.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const base = join(outDir, `bench-${stamp}`);
writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
writeFileSync(`${base}.md`, md);
rmSync(config.work, { recursive: true, force: true });
if (values.svg) writeFileSync(resolve(values.svg), svgOf(results));
process.stdout.write(md + `\nWrote ${base}.json and .md${values.svg ? ` and ${values.svg}` : ''}\n`);
