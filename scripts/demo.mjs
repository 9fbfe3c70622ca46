#!/usr/bin/env node
// The demo: start the bundled simulator over HTTPS with a few hundred accounts, run `plan`, then
// `rotate` with the real CLI, and check the report against the simulator's live passwords.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '../dist/simulator/index.js';
import { readReport } from '../dist/rotation/report-parse.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'dist', 'cli.js');
const outDir = join(root, 'output');
mkdirSync(outDir, { recursive: true, mode: 0o700 });

function run(args, env) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** The human lines of stderr (the summary), without pino's JSON log lines. */
const human = (s) =>
  s
    .split('\n')
    .filter((l) => l && !l.startsWith('{'))
    .join('\n');

const sim = await startSimulator({ tls: true, users: 300, resellers: 3, seed: 42, faults: { latencyMs: 5, jitterMs: 5 } });
let failed = false;
try {
  const all = sim.accounts();
  console.log(`Simulator: ${sim.url} (self-signed, SHA-256 ${sim.fingerprint256})`);
  console.log(
    `  ${all.length} accounts: ${all.filter((a) => a.type === 'admin').length} admins, ${all.filter((a) => a.type === 'reseller').length} resellers, ${all.filter((a) => a.type === 'user').length} users\n`,
  );

  // DA_URL carries the credentials the way `da api-url` prints them; nothing secret is in argv.
  const u = new URL(sim.url);
  u.username = sim.adminUser;
  u.password = sim.adminPassword;
  const env = { DA_URL: u.toString().replace(/\/$/, '') };
  const common = ['--fingerprint', sim.fingerprint256, '--scope', 'all', '--exclude', 'admin2', '--log-level', 'warn'];

  console.log('$ da-rotate plan --scope all --exclude admin2 --fingerprint ...');
  const plan = await run(['plan', ...common, '--json'], env);
  console.log(human(plan.stderr) + '\n');
  if (plan.code !== 0) throw new Error(`plan exited ${plan.code}`);
  const planned = JSON.parse(plan.stdout.trim().split('\n').at(-1));
  if (sim.stats.requests['CMD_API_USER_PASSWD']) throw new Error('the plan changed a password');

  const before = new Map(all.map((a) => [a.username, a.password]));
  console.log('$ da-rotate rotate --scope all --exclude admin2 --fingerprint ... --yes');
  sim.resetStats(); // count the rotation alone, not the plan before it
  const rot = await run(['rotate', ...common, '--yes', '--json'], env);
  console.log(human(rot.stderr) + '\n');
  const summary = JSON.parse(rot.stdout.trim().split('\n').at(-1));

  // Check: every rotated row's password is the live one; untouched accounts kept theirs.
  const rows = readReport(summary.report);
  let match = 0;
  const problems = [];
  for (const row of rows) {
    if (row.status === 'rotated') {
      if (sim.password(row.username) === row.password) match++;
      else problems.push(`${row.username}: live password differs from the report`);
    }
  }
  for (const name of [sim.adminUser, 'admin2']) {
    if (sim.password(name) !== before.get(name)) problems.push(`${name} was changed but must not be`);
  }
  console.log(
    `Check against the simulator: ${match}/${summary.counts.rotated} rotated passwords match the live ones; ` +
      `${planned.counts.planned} planned, admin and admin2 untouched: ${problems.length === 0 ? 'OK' : 'PROBLEMS'}`,
  );
  // maxProcessing: requests the simulator worked on at once (past authentication), which the
  // client's concurrency bounds; maxInFlight also counts connections still being accepted.
  const limit = summary.concurrency ?? 8;
  const most = sim.stats.maxProcessing;
  console.log(
    `  CMD_API_USER_PASSWD calls: ${sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0}, most processed at once: ${most} (concurrency ${limit})${most > limit ? ' ABOVE THE LIMIT' : ''}`,
  );
  if (most > limit) problems.push(`${most} requests were processed at once, above --concurrency ${limit}`);
  console.log(`  report (mode 0600, holds the new passwords): ${summary.report}`);
  for (const p of problems.slice(0, 10)) console.log(`  ${p}`);
  failed = rot.code !== 0 || problems.length > 0 || match !== summary.counts.rotated || match === 0;

  // The hand-off: a notify dry run renders the customer's message as an .eml file and sends nothing.
  const deliverable = (r) => r.status === 'rotated' && !sim.account(r.username)?.suspended; // suspended accounts get no message
  const customer = (rows.find((r) => deliverable(r) && /^user/.test(r.username)) ?? rows.find(deliverable))?.username;
  if (customer) failed = (await showNotifyDryRun(summary.report, customer, env)) || failed;
} finally {
  await sim.close();
}
process.exit(failed ? 1 : 0);

/**
 * `notify --dry-run --only CUSTOMER`: writes that customer's message as an .eml (0600) and prints it.
 * The password is shown because it is a demo simulator password (checked: it is the live password
 * of this in-memory simulator, which dies with the demo): it opens nothing, and seeing it is the
 * point of the demo. Anything else that looked like a password would be masked.
 */
async function showNotifyDryRun(report, customer, env) {
  const emlDir = join(outDir, `notify-demo-${new Date().toISOString().replace(/[-:.]/g, '')}`);
  console.log(`\n$ da-rotate notify --report ${report} --only ${customer} --dry-run --from "Hosting Ops <ops@hoster.example>" --fingerprint ...`);
  const n = await run(
    [
      'notify',
      '--report',
      report,
      '--only',
      customer,
      '--dry-run',
      '--eml-dir',
      emlDir,
      '--from',
      'Hosting Ops <ops@hoster.example>',
      '--fingerprint',
      sim.fingerprint256,
    ],
    env,
  );
  console.log(human(n.stderr));
  if (n.code !== 0) {
    console.log(`notify dry run exited ${n.code}`);
    return true;
  }
  const raw = readFileSync(join(emlDir, `${customer}.eml`), 'utf8');
  const sep = raw.indexOf('\n\n');
  const headers = raw.slice(0, sep);
  let body = raw.slice(sep + 2);
  if (/Content-Transfer-Encoding:\s*quoted-printable/i.test(headers)) {
    body = Buffer.from(
      body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  } else if (/Content-Transfer-Encoding:\s*base64/i.test(headers)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  const live = sim.password(customer);
  const shown = body.replace(
    /(new password: )(\S+)/g,
    (_m, label, pw) => label + (pw === live ? pw : `${pw.slice(0, 2)}${'*'.repeat(Math.max(0, pw.length - 2))}`),
  );
  console.log(`--- ${emlDir}/${customer}.eml (the password shown is a throwaway of the demo simulator) ---`);
  for (const h of headers.split('\n')) if (/^(From|To|Subject):/.test(h)) console.log(h);
  console.log('');
  console.log(shown.trimEnd());
  console.log('--- end of message ---');
  return !body.includes(live);
}
