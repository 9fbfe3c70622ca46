/**
 * Part `progress` (issue 28, "progress from the first second"): how soon someone watching a
 * terminal sees a plan move. `plan --scope all --include all` against a simulator of 105 users, no
 * reseller, 40 ms a request (a listing of several seconds), run on a terminal as a user runs it:
 * util-linux `script` gives the CLI a pty, as test/e2e/progress.test.ts does, because off a terminal
 * the progress lines are not drawn. Times from spawn (of `script`, which adds a few ms) to the first
 * progress line (`logging in to http...`), to the first `listing:` line and to the summary
 * (`Plan finished`): median and min of config.progressRuns runs. Without `script`: not available.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, load, log, r1, startSim } from './common.mjs';
import { median } from './startup.mjs';

const USERS = 105;
const LATENCY_MS = 40;
const ARGS = ['plan', '--scope', 'all', '--include', 'all'];
/** The lines timed, by what they start with on screen. */
const MARKS = { firstProgress: /logging in to http/, firstListing: /listing: /, summary: /Plan finished/ };

const hasScript = () => spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;
const shellQuote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

/** One plan on a terminal: ms from spawn to each mark, the text it drew, its exit code. */
function planOnTerminal(args, env) {
  const command = [process.execPath, cli, ...args].map(shellQuote).join(' ');
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    const ms = {};
    child.stdout.on('data', (d) => {
      text += d;
      const now = Number(process.hrtime.bigint() - t0) / 1e6;
      for (const [name, re] of Object.entries(MARKS)) if (ms[name] === undefined && re.test(text)) ms[name] = now;
    });
    child.stderr.on('data', (d) => (text += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, text, ms }));
  });
}

/** Fills results.progress. */
export async function benchProgress(config, results) {
  if (!hasScript()) {
    results.progress = { available: false, missing: 'util-linux `script`' };
    log(`first progress line: not available (missing ${results.progress.missing})`);
    return;
  }
  const runs = config.progressRuns;
  log(`first progress line: ${runs} runs of \`${ARGS.join(' ')}\` on a terminal, ${USERS} users at ${LATENCY_MS} ms (load ${load()})`);
  const sim = await startSim(['--users', String(USERS), '--resellers', '0', '--latency', String(LATENCY_MS)]);
  const loadStart = load();
  try {
    const times = Object.fromEntries(Object.keys(MARKS).map((name) => [name, []]));
    let planned;
    for (let i = 0; i < runs; i++) {
      const r = await planOnTerminal([...ARGS, '--output', join(config.work, `progress-${i}.csv`)], sim.env);
      const missing = Object.keys(MARKS).filter((name) => r.ms[name] === undefined);
      if (r.code !== 0 || missing.length)
        throw new Error(`the plan on a terminal exited ${r.code} without ${missing.join(', ') || '-'}: ${r.text.slice(-500)}`);
      for (const name of Object.keys(MARKS)) times[name].push(r.ms[name]);
      planned = Number(/planned (\d+)/.exec(r.text)?.[1]);
    }
    const figure = (xs) => ({ medianMs: r1(median(xs)), minMs: r1(Math.min(...xs)) });
    results.progress = {
      available: true,
      users: USERS,
      resellers: 0,
      latencyMs: LATENCY_MS,
      command: ARGS.join(' '),
      runs,
      planned,
      firstProgress: figure(times.firstProgress),
      firstListing: figure(times.firstListing),
      summary: figure(times.summary),
    };
    results.loads.progress = `${loadStart} -> ${load()}`;
    const p = results.progress;
    log(
      `  first progress line: median ${p.firstProgress.medianMs} ms (min ${p.firstProgress.minMs}); first listing line ${p.firstListing.medianMs} ms; summary ${p.summary.medianMs} ms`,
    );
  } finally {
    await sim.stop();
  }
}
