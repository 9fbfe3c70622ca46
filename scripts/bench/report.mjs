/**
 * The report of `npm run bench`: the Targets (reported, never asserted), the markdown written to
 * output/bench-<time>.md and printed, and the chart of --svg (docs/bench.svg).
 */
import { r1 } from './common.mjs';

/** results.targets: each target's value and whether it is met; a part that did not run has none. */
export function targetsOf(config, results) {
  const { accounts: N, latencyMs: LATENCY, scale: SCALE, degradeCapacity: DEGRADE_C } = config;
  const su = results.startup;
  const progress = results.progress?.available ? results.progress : undefined;
  const at16 = results.throughput.rows.find((r) => r.concurrency === 16);
  const worstCpu = results.zeroLatency?.cpuMsPerAccount ?? NaN;
  return {
    '`plan` of 3 accounts within 3.5x of bare node': su && { value: su['plan (3 accounts)'].xBare, met: su['plan (3 accounts)'].xBare <= 3.5 },
    '`--version` faster than `plan`': su && { value: su['--version'].xBare, met: su['--version'].medianMs < su['plan (3 accounts)'].medianMs },
    '`--help` faster than `plan`': su && { value: su['--help'].xBare, met: su['--help'].medianMs < su['plan (3 accounts)'].medianMs },
    // Issue 28: someone watching sees the run move within a second, well before the listing ends.
    'first progress line of a plan at 40 ms within 1 s (on a terminal)': progress && {
      value: progress.firstProgress.medianMs,
      met: progress.firstProgress.medianMs <= 1000,
    },
    [`c=16, ${N} accounts at ${LATENCY} ms: within 5% of the bare undici + p-limit loop, whole process against whole process`]: at16 && {
      value: at16.vsFloorWhole,
      met: at16.vsFloorWhole >= 0.95,
    },
    [`the same, the run alone against the loop alone`]: at16 && { value: at16.vsFloorRun, met: at16.vsFloorRun >= 0.95 },
    [`c=16, ${N} accounts at ${LATENCY} ms: at least 0.9 of ideal, whole process`]: at16 && { value: at16.ratioToIdeal, met: at16.ratioToIdeal >= 0.9 },
    [`the same against the plain stand-in`]: results.throughput.standin && {
      value: results.throughput.standin.ratioToIdeal,
      met: results.throughput.standin.ratioToIdeal >= 0.9,
    },
    [`the same, against the ideal at the stand-in's measured answer time`]: results.throughput.standin && {
      value: results.throughput.standin.ratioToServerIdeal,
      met: results.throughput.standin.ratioToServerIdeal >= 0.9,
    },
    'client CPU at most 0.5 ms per account (zero latency, whole process)': results.zeroLatency && { value: worstCpu, met: worstCpu <= 0.5 },
    [`plan of ${SCALE} accounts: peak memory (MB)`]: results.scale && { value: results.scale.peakRssMb, met: results.scale.peakRssMb <= 150 },
    [`auto within 15% of the best fixed concurrency (capacity ${DEGRADE_C})`]: results.auto?.available
      ? { value: results.auto.autoOverBest, met: results.auto.autoOverBest <= 1.15 }
      : undefined,
  };
}

const fmt = (x) => (x === undefined || (typeof x === 'number' && !Number.isFinite(x)) ? '-' : String(x));

/** The first progress line of a plan on a terminal (part `progress`), shown in the start-up section. */
function progressSection(results) {
  const p = results.progress;
  if (!p) return [];
  if (!p.available) return [`First progress line of a plan on a terminal: not available (missing ${p.missing}).`, ''];
  return [
    `### First progress line of a plan on a terminal (median of ${p.runs}, load ${fmt(results.loads.progress)})`,
    '',
    `\`${p.command}\` of ${p.users} users and ${p.resellers} resellers at ${p.latencyMs} ms a request (${fmt(p.planned)} credentials planned), on a terminal (util-linux \`script\`), from spawn to:`,
    '',
    '| line | median ms | min ms |',
    '|---|---:|---:|',
    `| first progress line (\`logging in to http...\`) | ${p.firstProgress.medianMs} | ${p.firstProgress.minMs} |`,
    `| first \`listing:\` line | ${p.firstListing.medianMs} | ${p.firstListing.minMs} |`,
    `| summary (\`Plan finished\`) | ${p.summary.medianMs} | ${p.summary.minMs} |`,
    '',
  ];
}

/** The markdown report (output/bench-<time>.md, and printed). */
export function markdownOf(config, results) {
  const { quick: QUICK, accounts: N, latencyMs: LATENCY, runs: RUNS, startupRuns: STARTUP_RUNS, scale: SCALE, degradeCapacity: DEGRADE_C } = config;
  const su = results.startup;
  const m = results.machine;
  return [
    `# da-rotate benchmark, ${results.startedAt}${QUICK ? ' (quick)' : ''}`,
    '',
    `Machine: ${m.nproc} CPU (${m.model}), ${m.memGb} GB, Node ${m.node}. Load average (1, 5, 15 min) before: ${m.loadBefore}; after: ${m.loadAfter}.`,
    `Simulator in its own process. Whole-process times run from spawn to exit.`,
    '',
    `## Start-up (median of ${STARTUP_RUNS}, load ${fmt(results.loads.startup)})`,
    '',
    '| command | median ms | min ms | x bare node |',
    '|---|---:|---:|---:|',
    ...Object.entries(su ?? {}).map(([k, v]) => `| ${k} | ${v.medianMs} | ${v.minMs} | ${v.xBare} |`),
    '',
    ...progressSection(results),
    `## Throughput: ${N} accounts at ${LATENCY} ms a request, median of ${RUNS} runs (load ${fmt(results.loads.throughput)})`,
    '',
    '| c | whole process s | ideal s | ratio to ideal | run alone s | run ratio | bare loop whole process s | bare loop alone ratio | vs bare loop (whole) | vs bare loop (run) | server mean ms | p50 ms | p99 ms | CPU ms/account | peak MB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.throughput.rows.map(
      (r) =>
        `| ${r.concurrency} | ${r.wallS} | ${r.idealS} | ${r.ratioToIdeal} | ${r.runS} | ${r.runRatioToIdeal} | ${fmt(r.floorWholeS)} | ${fmt(r.floorRatioToIdeal)} | ${fmt(r.vsFloorWhole)} | ${fmt(r.vsFloorRun)} | ${fmt(r.serverMeanMs)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuMsPerAccount)} | ${fmt(r.peakRssMb)} |`,
    ),
    '',
    "The bare undici loop (scripts/bench/floor.mjs) keeps c changes in flight with undici and p-limit and nothing else: no login test, no listing, no journal, no report, no outcome rule. It is the most any client reaches on this machine against this simulator; da-rotate's gap to it is the client's own cost. \"vs bare loop\" is the loop's time over da-rotate's (1.0: as fast), whole process against whole process (start-up and exit included on both sides) and the run alone against the loop alone. \"server mean\" is the simulator's own time from a request's arrival to its answer, averaged over da-rotate's run.",
    '',
    results.throughput.standin
      ? `Against the plain stand-in (scripts/bench/standin.mjs: no simulator code, one bare setTimeout per answer), c = ${results.throughput.standin.concurrency}: ${results.throughput.standin.wallS} s whole process (${results.throughput.standin.wallRangeS.join(' to ')}), ${results.throughput.standin.ratioToIdeal} of ideal (run alone ${results.throughput.standin.runRatioToIdeal}); bare undici loop ${results.throughput.standin.floorRatioToIdeal}; the stand-in answered in ${results.throughput.standin.serverMeanMs} ms on average, so ${results.throughput.standin.ratioToServerIdeal} of the ideal at the latency it really had.\n`
      : '',
    results.zeroLatency
      ? `## Client CPU\n\n${results.zeroLatency.accounts} accounts at zero latency, c = 16, whole process: ${results.zeroLatency.wallS} s, ${results.zeroLatency.cpuMsPerAccount} ms CPU per account (${results.zeroLatency.userMsPerAccount} user, ${results.zeroLatency.systemMsPerAccount} system), peak ${results.zeroLatency.peakRssMb} MB (load ${results.loads.zeroLatency}). The CPU column above includes the cost of waking for every answer spread over time.\n`
      : '',
    results.scale
      ? `## Scale\n\nPlan of ${SCALE} accounts (--scope all): ${results.scale.wallS} s, ${results.scale.cpuMs} ms CPU, peak ${results.scale.peakRssMb} MB (load ${results.loads.scale}).\n`
      : '',
    `## --concurrency auto on a server degrading past ${DEGRADE_C} in flight`,
    '',
    results.auto?.available
      ? [
          `${results.auto.accounts} accounts, ${LATENCY} ms base latency; best fixed: c=${results.auto.best}; auto / best = ${results.auto.autoOverBest} (load ${results.loads.auto}).`,
          '',
          '| c | whole process s | run s | most processed at once | limit at the end | p50 ms | p90 ms |',
          '|---|---:|---:|---:|---:|---:|---:|',
          ...results.auto.rows.map(
            (r) =>
              `| ${r.concurrency} | ${r.wallS} | ${r.runS} | ${fmt(r.maxProcessing)} | ${r.chosen === undefined ? '-' : JSON.stringify(r.chosen)} | ${fmt(r.p50Ms)} | ${fmt(r.p90Ms)} |`,
          ),
        ].join('\n')
      : `Not available: missing ${results.auto?.missing}.`,
    '',
    results.sweep
      ? `## Incident sweep\n\n\`rotate --include email\`, ${results.sweep.accounts} accounts, ${results.sweep.mailboxes} mailboxes (${results.sweep.mailboxesPerAccount} an account: the simulator gives each account 1 or 2 domains, 2 mailboxes each), ${LATENCY} ms a request, c = ${results.sweep.concurrency}: ${results.sweep.reads} reads + ${results.sweep.writes} writes in ${results.sweep.wallS} s whole process, ideal (reads + writes) x L / c = ${results.sweep.idealS} s, ratio ${results.sweep.ratioToIdeal}; ${results.sweep.cpuMsPerCredential} ms CPU per mailbox (load ${results.loads.sweep}).\n`
      : '',
    results.fleet
      ? `## Fleet\n\n${results.fleet.servers} servers of ${results.fleet.accounts} accounts at once, ${LATENCY} ms, c = 8 each: ${results.fleet.rotated} rotated in ${results.fleet.wallS} s, ideal (the slowest server's N x L / c) ${results.fleet.idealS} s, ratio ${results.fleet.ratioToIdeal}, peak ${results.fleet.peakRssMb} MB (load ${results.loads.fleet}).\n`
      : '',
    results.baselines.length
      ? [
          '## Baselines',
          '',
          '| tool | c | accounts | s | ratio to ideal |',
          '|---|---:|---:|---:|---:|',
          ...results.baselines.map((b) => `| ${b.tool} | ${b.concurrency} | ${b.accounts} | ${b.wallS} | ${b.ratioToIdeal} |`),
          '',
        ].join('\n')
      : '',
    '## Targets',
    '',
    '| target | value | met |',
    '|---|---:|---|',
    ...Object.entries(results.targets)
      .filter(([, v]) => v)
      .map(([k, v]) => `| ${k} | ${v.value} | ${v.met ? 'yes' : 'NO'} |`),
    '',
  ].join('\n');
}

/** docs/bench.svg: throughput against the ideal (left), auto against fixed limits on the degrading server (right). */
export function svgOf(res) {
  const W = 760;
  const H = 400;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  const text = (x, y, t, extra = '') => out.push(`<text x="${r1(x)}" y="${r1(y)}" ${extra}>${t}</text>`);
  const m = res.machine;
  text(
    W / 2,
    20,
    `da-rotate ${res.startedAt.slice(0, 10)}: ${m.nproc} CPU (${m.model}), Node ${m.node}, load ${m.loadBefore.split(' ')[0]} -> ${m.loadAfter.split(' ')[0]}`,
    'text-anchor="middle" font-size="13"',
  );
  // Left: accounts per second against c (whole process), with the ideal c / L.
  const rows = res.throughput.rows;
  if (rows.length) {
    const x0 = 60,
      x1 = 350,
      y0 = 340,
      y1 = 60;
    const perS = rows.map((r) => r.accounts / r.wallS);
    const ideal = rows.map((r) => (1000 * r.concurrency) / res.throughput.latencyMs);
    const top = Math.max(...ideal, ...perS) * 1.1;
    const xs = rows.map((_, i) => x0 + ((x1 - x0) * (i + 0.5)) / rows.length);
    const y = (v) => y0 - ((y0 - y1) * v) / top;
    out.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="black"/><line x1="${x0}" y1="${y1}" x2="${x0}" y2="${y0}" stroke="black"/>`);
    for (let k = 0; k <= 4; k++) text(x0 - 6, y((top * k) / 4.4) + 4, Math.round((top * k) / 4.4), 'text-anchor="end"');
    rows.forEach((r, i) => {
      const bw = (x1 - x0) / rows.length / 3;
      out.push(`<rect x="${r1(xs[i] - bw)}" y="${r1(y(ideal[i]))}" width="${r1(bw)}" height="${r1(y0 - y(ideal[i]))}" fill="#ccc"/>`);
      out.push(`<rect x="${r1(xs[i])}" y="${r1(y(perS[i]))}" width="${r1(bw)}" height="${r1(y0 - y(perS[i]))}" fill="#1f77b4"/>`);
      text(xs[i], y0 + 16, `c=${r.concurrency}`, 'text-anchor="middle"');
      text(xs[i] + bw / 2, y(perS[i]) - 4, r.ratioToIdeal, 'text-anchor="middle" font-size="11"');
    });
    text((x0 + x1) / 2, y0 + 36, `${res.throughput.accounts} accounts at ${res.throughput.latencyMs} ms: accounts/s, whole process`, 'text-anchor="middle"');
    out.push(`<rect x="${x0 + 10}" y="${y1 - 12}" width="10" height="10" fill="#ccc"/>`);
    text(x0 + 24, y1 - 3, 'ideal c / L');
    out.push(`<rect x="${x0 + 110}" y="${y1 - 12}" width="10" height="10" fill="#1f77b4"/>`);
    text(x0 + 124, y1 - 3, 'da-rotate (label: ratio)');
  }
  // Right: wall time on the degrading server, fixed limits and auto.
  if (res.auto?.available) {
    const x0 = 440,
      x1 = 730,
      y0 = 340,
      y1 = 60;
    const ar = res.auto.rows;
    const top = Math.max(...ar.map((r) => r.wallS)) * 1.15;
    const y = (v) => y0 - ((y0 - y1) * v) / top;
    out.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="black"/><line x1="${x0}" y1="${y1}" x2="${x0}" y2="${y0}" stroke="black"/>`);
    for (let k = 0; k <= 4; k++) text(x0 - 6, y((top * k) / 4.4) + 4, r1((top * k) / 4.4), 'text-anchor="end"');
    const bw = ((x1 - x0) / ar.length) * 0.6;
    ar.forEach((r, i) => {
      const cx = x0 + ((x1 - x0) * (i + 0.5)) / ar.length;
      const fill = r.concurrency === 'auto' ? '#d62728' : r.concurrency === res.auto.best ? '#2ca02c' : '#999';
      out.push(`<rect x="${r1(cx - bw / 2)}" y="${r1(y(r.wallS))}" width="${r1(bw)}" height="${r1(y0 - y(r.wallS))}" fill="${fill}"/>`);
      text(cx, y0 + 16, r.concurrency === 'auto' ? `auto` : `${r.concurrency}`, 'text-anchor="middle"');
      text(
        cx,
        y(r.wallS) - 4,
        r.concurrency === 'auto' ? `${r.wallS} s, limit ${r.chosen}, max ${r.maxProcessing}` : `${r.wallS}`,
        'text-anchor="middle" font-size="10"',
      );
    });
    text((x0 + x1) / 2, y0 + 36, `seconds for ${res.auto.accounts} accounts, server degrading past ${res.auto.capacity}`, 'text-anchor="middle"');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
