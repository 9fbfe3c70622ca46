#!/usr/bin/env node
/**
 * `npm run bench`: throughput and client cost of da-rotate against the simulator (in its own
 * process, with latency and a capacity), side by side with the seed's sequential loop and with
 * `xargs -P c curl`; then enumeration and planning at 100 000 accounts.
 *
 *   node scripts/bench.mjs [--accounts 5000] [--latency 20] [--jitter 4] [--capacity 32]
 *                          [--concurrency 1,4,16,64] [--sequential-accounts 400] [--scale 100000]
 *                          [--baselines no]
 *
 * Writes output/bench-<time>.json, .md and .svg. Targets are reported, not asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'dist', 'cli.js');
const probe = join(root, 'scripts', 'bench-probe.mjs');

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '5000' },
    latency: { type: 'string', default: '20' },
    jitter: { type: 'string', default: '4' },
    capacity: { type: 'string', default: '32' },
    concurrency: { type: 'string', default: '1,4,16,64' },
    'sequential-accounts': { type: 'string', default: '400' },
    scale: { type: 'string', default: '100000' },
    baselines: { type: 'string', default: 'yes' },
  },
});
const N = Number(values.accounts);
const LATENCY = Number(values.latency);
const JITTER = Number(values.jitter);
const CAPACITY = Number(values.capacity);
const LEVELS = values.concurrency.split(',').map(Number);
const SEQ_N = Math.min(N, Number(values['sequential-accounts']));
const SCALE = Number(values.scale);
const meanLatencyS = (LATENCY + JITTER / 2) / 1000;
const ideal = (c) => Math.min(c, CAPACITY) / meanLatencyS;

const work = mkdtempSync(join(tmpdir(), 'da-rotate-bench-'));
const outDir = join(root, 'output');
mkdirSync(outDir, { recursive: true, mode: 0o700 });
const log = (s) => process.stderr.write(s + '\n');

// ---------------------------------------------------------------------------------------------
/** The simulator in its own process, so its CPU never counts as the client's. */
async function startSim(args) {
  const child = spawn(process.execPath, [cli, 'simulate', '--json-status', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const lines = [];
  let waiter;
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      waiter?.();
    }
  });
  const nextLine = () =>
    new Promise((res) => {
      const check = () => (lines.length ? res(lines.shift()) : (waiter = check));
      check();
    });
  const status = JSON.parse(await nextLine());
  return {
    ...status,
    async stats() {
      child.stdin.write('{"stats":true}\n');
      return JSON.parse(await nextLine()).stats;
    },
    reset() {
      child.stdin.write('{"reset":true}\n');
    },
    stop() {
      return new Promise((res) => {
        child.on('exit', res);
        child.kill('SIGTERM');
      });
    },
  };
}

function runProbed(args, env) {
  const probeFile = join(work, `probe-${Date.now()}-${randomInt(1e9)}.json`);
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', probe, cli, ...args], {
      env: { ...process.env, ...env, BENCH_PROBE_FILE: probeFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      let p = { cpuMs: NaN, maxRssKb: NaN, latencies: [] };
      try {
        p = JSON.parse(readFileSync(probeFile, 'utf8'));
      } catch {
        /* the process died before writing */
      }
      res({ code, stdout, stderr, wallMs, ...p });
    });
  });
}

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r1 = (x) => Math.round(x * 10) / 10;
const r3 = (x) => Math.round(x * 1000) / 1000;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newPassword = () => Array.from({ length: 22 }, () => ALNUM[randomInt(62)]).join('');
const userName = (i, total) => `user${String(i).padStart(Math.max(5, String(total).length), '0')}`;

// ---------------------------------------------------------------------------------------------
/** The seed's recipe: one account at a time, a fresh connection for each, judged by error=0. */
async function seedLoop(sim, users) {
  const auth = 'Basic ' + Buffer.from(`${sim.adminUser}:${sim.adminPassword}`).toString('base64');
  const url = new URL(sim.url);
  const latencies = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = 0;
  for (const u of users) {
    const pw = newPassword();
    const body = `username=${u}&passwd=${pw}&passwd2=${pw}`;
    const s = performance.now();
    const text = await new Promise((res, rej) => {
      const req = request(
        { host: url.hostname, port: url.port, path: '/CMD_API_USER_PASSWD', method: 'POST', agent: false, headers: { authorization: auth, connection: 'close', 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
        (r) => {
          let t = '';
          r.on('data', (d) => (t += d));
          r.on('end', () => res(t));
        },
      );
      req.on('error', rej);
      req.end(body);
    });
    latencies.push(performance.now() - s);
    if (new URLSearchParams(text).get('error') === '0') ok++;
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { accounts: users.length, ok, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, latencies };
}

/** `xargs -P c curl`: what an operator might write today to go parallel. */
function xargsCurl(sim, users, c) {
  const list = join(work, `xargs-${c}.txt`);
  writeFileSync(list, users.map((u) => `${u} ${newPassword()}`).join('\n') + '\n', { mode: 0o600 });
  const netrc = join(work, 'netrc');
  const host = new URL(sim.url);
  writeFileSync(netrc, `machine ${host.hostname} login ${sim.adminUser} password ${sim.adminPassword}\n`, { mode: 0o600 });
  const script = `curl -s -o /dev/null --netrc-file ${netrc} -d "username=$0&passwd=$1&passwd2=$1" ${sim.url}/CMD_API_USER_PASSWD`;
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', `xargs -P ${c} -L 1 sh -c '${script}' < ${list}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const wallMs = performance.now() - t0;
  // Children's CPU: what sh, xargs and every curl cost, read from this process's rusage of children.
  return { accounts: users.length, wallMs, status: r.status };
}

function childCpuMs() {
  // getrusage(RUSAGE_CHILDREN) is not exposed; /proc/self/stat fields 16-17 (cutime, cstime) are.
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const ticks = Number(f[13]) + Number(f[14]);
    return (ticks * 1000) / 100;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------------
const results = { startedAt: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, settings: { accounts: N, latencyMs: LATENCY, jitterMs: JITTER, capacity: CAPACITY, sequentialAccounts: SEQ_N }, rows: [], scale: undefined };
const hasCurl = spawnSync('sh', ['-c', 'command -v curl && command -v xargs'], { stdio: 'ignore' }).status === 0;

log(`Simulator: ${N} accounts, latency ${LATENCY} ms + up to ${JITTER} ms jitter, capacity ${CAPACITY}; ideal = min(c, ${CAPACITY}) / ${r1(meanLatencyS * 1000)} ms`);
const sim = await startSim(['--users', String(N), '--resellers', '0', '--admins', '1', '--latency', String(LATENCY), '--jitter', String(JITTER), '--capacity', String(CAPACITY)]);
const env = { DA_URL: sim.url.replace('://', `://${sim.adminUser}:${sim.adminPassword}@`) };
const allUsers = Array.from({ length: N }, (_, i) => userName(i + 1, N));
const seqUsersFile = join(work, 'seq-users.txt');
writeFileSync(seqUsersFile, allUsers.slice(0, SEQ_N).join('\n') + '\n');

try {
  for (const c of LEVELS) {
    // c = 1 at 22 ms an account would take minutes for 5 000: the rate is measured on a subset.
    const subset = c === 1 && SEQ_N < N;
    const count = subset ? SEQ_N : N;
    const r = await runProbed(
      ['rotate', '--yes', '--json', '--log-level', 'warn', '--concurrency', String(c), '--output', join(work, `rot-${c}.csv`), ...(subset ? ['--users-file', seqUsersFile] : [])],
      env,
    );
    if (r.code !== 0) throw new Error(`rotation at c=${c} exited ${r.code}: ${r.stderr.slice(-500)}`);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1));
    const rate = summary.counts.rotated / (summary.durationMs / 1000);
    const row = {
      tool: 'da-rotate',
      concurrency: c,
      accounts: summary.counts.rotated,
      seconds: r3(summary.durationMs / 1000),
      accountsPerSecond: r1(rate),
      ideal: r1(ideal(c)),
      ratioToIdeal: r3(rate / ideal(c)),
      p50Ms: r1(pct(r.latencies, 50)),
      p99Ms: r1(pct(r.latencies, 99)),
      cpuMsPerAccount: r3(r.cpuMs / count),
      peakRssMb: r1(r.maxRssKb / 1024),
    };
    results.rows.push(row);
    log(`da-rotate c=${c}: ${row.accountsPerSecond}/s (${row.ratioToIdeal} of ideal), p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.cpuMsPerAccount} ms CPU/account, ${row.peakRssMb} MB`);
  }

  if (values.baselines !== 'no') {
  const seed = await seedLoop(sim, allUsers.slice(0, SEQ_N));
  const seedRate = seed.accounts / (seed.wallMs / 1000);
  results.rows.push({
    tool: 'seed loop (sequential, new connection each)',
    concurrency: 1,
    accounts: seed.accounts,
    seconds: r3(seed.wallMs / 1000),
    accountsPerSecond: r1(seedRate),
    ideal: r1(ideal(1)),
    ratioToIdeal: r3(seedRate / ideal(1)),
    p50Ms: r1(pct(seed.latencies, 50)),
    p99Ms: r1(pct(seed.latencies, 99)),
    cpuMsPerAccount: r3(seed.cpuMs / seed.accounts),
    peakRssMb: NaN,
  });
  log(`seed loop: ${r1(seedRate)}/s`);

  if (hasCurl) {
    for (const c of LEVELS.filter((x) => x > 1)) {
      const count = Math.min(N, c * 150);
      const before = childCpuMs();
      const x = xargsCurl(sim, allUsers.slice(0, count), c);
      const cpu = childCpuMs() - before;
      const rate = x.accounts / (x.wallMs / 1000);
      results.rows.push({ tool: 'xargs -P c curl', concurrency: c, accounts: x.accounts, seconds: r3(x.wallMs / 1000), accountsPerSecond: r1(rate), ideal: r1(ideal(c)), ratioToIdeal: r3(rate / ideal(c)), p50Ms: NaN, p99Ms: NaN, cpuMsPerAccount: r3(cpu / x.accounts), peakRssMb: NaN });
      log(`xargs -P ${c} curl: ${r1(rate)}/s`);
    }
  } else {
    log('curl or xargs not installed: that baseline is skipped');
  }
  }
} finally {
  await sim.stop();
}

// Scale: enumerate and plan 100 000 accounts (no latency: this measures the client).
if (SCALE > 0) {
  const big = await startSim(['--users', String(SCALE), '--resellers', '20', '--admins', '1']);
  try {
    const r = await runProbed(['plan', '--scope', 'all', '--log-level', 'warn', '--output', join(work, 'plan-big.csv')], { DA_URL: big.url.replace('://', `://${big.adminUser}:${big.adminPassword}@`) });
    if (r.code !== 0) throw new Error(`plan at scale exited ${r.code}: ${r.stderr.slice(-500)}`);
    const planned = readFileSync(join(work, 'plan-big.csv'), 'utf8').split('\n').length - 2;
    results.scale = { accounts: SCALE, rowsPlanned: planned, seconds: r3(r.wallMs / 1000), cpuMs: Math.round(r.cpuMs), peakRssMb: r1(r.maxRssKb / 1024) };
    log(`plan of ${SCALE} accounts: ${results.scale.seconds} s, peak ${results.scale.peakRssMb} MB`);
  } finally {
    await big.stop();
  }
}

// ---------------------------------------------------------------------------------------------
const at16 = results.rows.find((r) => r.tool === 'da-rotate' && r.concurrency === 16);
const seedRow = results.rows.find((r) => r.tool.startsWith('seed'));
const curl16 = results.rows.find((r) => r.tool.startsWith('xargs') && r.concurrency === 16);
const worstCpu = Math.max(...results.rows.filter((r) => r.tool === 'da-rotate' && r.concurrency > 1).map((r) => r.cpuMsPerAccount));
results.targets = {
  'c=16 at least 0.9 of ideal': at16 ? { value: at16.ratioToIdeal, met: at16.ratioToIdeal >= 0.9 } : undefined,
  'c=16 at least 10x the seed loop': at16 && seedRow ? { value: r1(at16.accountsPerSecond / seedRow.accountsPerSecond), met: at16.accountsPerSecond >= 10 * seedRow.accountsPerSecond } : undefined,
  'c=16 no slower than xargs -P 16 curl': at16 && curl16 ? { value: r3(at16.accountsPerSecond / curl16.accountsPerSecond), met: at16.accountsPerSecond >= curl16.accountsPerSecond } : undefined,
  'client CPU at most 0.5 ms per account': { value: worstCpu, met: worstCpu <= 0.5 },
  'plan of 100 000 at most 150 MB': results.scale ? { value: results.scale.peakRssMb, met: results.scale.peakRssMb <= 150 } : undefined,
};

const stamp = results.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const base = join(outDir, `bench-${stamp}`);
const fmt = (x) => (Number.isFinite(x) ? String(x) : '-');
const md = [
  `# da-rotate benchmark, ${results.startedAt}`,
  '',
  `${results.machine.cpus} CPU (${results.machine.model}), Node ${results.machine.node}. Simulator in its own process: latency ${LATENCY} ms + 0..${JITTER} ms, capacity ${CAPACITY}. Ideal = min(c, ${CAPACITY}) / ${r1(meanLatencyS * 1000)} ms.`,
  '',
  '| tool | c | accounts | s | accounts/s | ideal | ratio | p50 ms | p99 ms | CPU ms/account | peak MB |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.rows.map((r) => `| ${r.tool} | ${r.concurrency} | ${r.accounts} | ${fmt(r.seconds)} | ${fmt(r.accountsPerSecond)} | ${fmt(r.ideal)} | ${fmt(r.ratioToIdeal)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuMsPerAccount)} | ${fmt(r.peakRssMb)} |`),
  '',
  results.scale ? `Plan of ${results.scale.accounts} accounts (--scope all, ${results.scale.rowsPlanned} rows): ${results.scale.seconds} s, ${results.scale.cpuMs} ms CPU, peak ${results.scale.peakRssMb} MB.` : '',
  '',
  '| target | value | met |',
  '|---|---:|---|',
  ...Object.entries(results.targets).filter(([, v]) => v).map(([k, v]) => `| ${k} | ${v.value} | ${v.met ? 'yes' : 'NO'} |`),
  '',
].join('\n');

function chart() {
  const W = 640, H = 400, P = 60;
  const series = [
    { name: 'da-rotate', color: '#1f77b4', pts: results.rows.filter((r) => r.tool === 'da-rotate').map((r) => [r.concurrency, r.accountsPerSecond]) },
    { name: 'ideal min(c, capacity)/L', color: '#999', dash: '4 4', pts: LEVELS.map((c) => [c, ideal(c)]) },
    { name: 'xargs -P c curl', color: '#d62728', pts: results.rows.filter((r) => r.tool.startsWith('xargs')).map((r) => [r.concurrency, r.accountsPerSecond]) },
    { name: 'seed loop', color: '#2ca02c', pts: seedRow ? [[1, seedRow.accountsPerSecond]] : [] },
  ];
  const maxY = Math.max(...series.flatMap((s) => s.pts.map((p) => p[1]))) * 1.1;
  const lx = (c) => P + (Math.log2(c) / Math.log2(Math.max(...LEVELS))) * (W - 2 * P);
  const ly = (v) => H - P - (v / maxY) * (H - 2 * P);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="black"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="black"/>`);
  for (const c of LEVELS) parts.push(`<text x="${lx(c)}" y="${H - P + 18}" text-anchor="middle">${c}</text>`);
  for (let i = 0; i <= 4; i++) parts.push(`<text x="${P - 6}" y="${ly((maxY * i) / 4) + 4}" text-anchor="end">${Math.round((maxY * i) / 4)}</text>`);
  parts.push(`<text x="${W / 2}" y="${H - 15}" text-anchor="middle">concurrency (log scale)</text><text x="15" y="${H / 2}" transform="rotate(-90 15 ${H / 2})" text-anchor="middle">accounts per second</text>`);
  series.forEach((s, i) => {
    if (!s.pts.length) return;
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''} points="${s.pts.map((p) => `${lx(p[0])},${ly(p[1])}`).join(' ')}"/>`);
    for (const p of s.pts) parts.push(`<circle cx="${lx(p[0])}" cy="${ly(p[1])}" r="3" fill="${s.color}"/>`);
    parts.push(`<rect x="${P + 10}" y="${P + i * 18 - 9}" width="12" height="3" fill="${s.color}"/><text x="${P + 28}" y="${P + i * 18 - 4}">${s.name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
writeFileSync(`${base}.md`, md);
writeFileSync(`${base}.svg`, chart());
rmSync(work, { recursive: true, force: true });
process.stdout.write(md + `\nWrote ${base}.json, .md and .svg\n`);
