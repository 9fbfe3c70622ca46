// One host's step of the playbook, run on the host with the same node that runs da-rotate.mjs.
// It decides what this host does for the playbook's run id, from the host's own files only:
//   done    the run id's last result is a summary with nothing left to resume: nothing is sent again
//   resume  the run id has a journal (the run was interrupted, or left unknown or not-started
//           credentials): `da-rotate resume JOURNAL`, never a new rotation over it
//   start   nothing of this run id was journaled yet: `da-rotate rotate` (or plan, or the sweep)
// The login key never passes through Ansible: `da api-url` is run here and its URL handed to
// da-rotate in the environment (never argv), or the operator's key file is read by da-rotate itself
// (--password-file). Settings come in the environment (DRH_*, none of them secret); the outcome is
// one JSON line on stdout, and result-N.json / status.json in the run's directory.
//
//   DRH_DIR         the host's da-rotate directory (made 0700 by the playbook)
//   DRH_RUN_ID      the playbook's run id (A-Z a-z 0-9 . _ -)
//   DRH_MODE        rotate | plan | sweep  (sweep: rotate --scope all --include all)
//   DRH_ACTION      probe (print what run would do) | run
//   DRH_ARGS        JSON array of more da-rotate options for rotate/plan (no secrets)
//   DRH_RESUME_ARGS JSON array of more options for resume
//   DRH_RECIPIENTS  JSON array of age recipients (--encrypt-to)
//   DRH_IDENTITY    age identity file on this host, for resuming a sealed journal
//   DRH_METRICS_FILE --metrics-file, passed only when set
//   DRH_KEY_FILE    login key file on this host (--password-file); else `DRH_DA_COMMAND api-url`
//   DRH_DA_COMMAND  default `da`
//   DRH_SERVER      panel URL without credentials (default: the origin `da api-url` prints, or
//                   https://127.0.0.1:2222 with a key file); DRH_USER login name (default admin)
//   DRH_FINGERPRINT, DRH_CA   the panel's certificate pin or CA file (on this host)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const dir = env.DRH_DIR;
const runId = env.DRH_RUN_ID ?? '';
const mode = env.DRH_MODE ?? 'rotate';
const list = (name) => (env[name] ? JSON.parse(env[name]) : []);

function out(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

function fail(error, extra = {}) {
  out({ action: 'error', exitCode: 2, error, ...extra });
  process.exit(2);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) fail(`node ${process.versions.node} on this host: da-rotate needs node >= 20.19 (set da_rotate_node to one)`);
if (!dir || !existsSync(join(dir, 'da-rotate.mjs'))) fail(`DRH_DIR ${dir ?? '(unset)'} holds no da-rotate.mjs`);
if (!/^[A-Za-z0-9._-]{1,64}$/.test(runId)) fail(`run id "${runId}": use 1 to 64 of A-Z a-z 0-9 . _ -`);
if (!['rotate', 'plan', 'sweep'].includes(mode)) fail(`mode "${mode}": rotate, plan or sweep`);

const runDir = join(dir, 'runs', runId);
mkdirSync(runDir, { recursive: true, mode: 0o700 });

/** The last result this host recorded for the run id, if any. */
function lastStatus() {
  try {
    return JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function journalOf() {
  const journals = readdirSync(runDir).filter((f) => f.endsWith('.journal.jsonl'));
  return journals.length ? join(runDir, journals.sort().at(-1)) : undefined;
}

/** A summary with counts and no resume command: that run is over (its failed rows stay failed). */
function finished(status) {
  return status?.summary?.counts !== undefined && !status.summary.resumeCommand;
}

const status = lastStatus();
const journal = journalOf();
const action = finished(status) ? 'done' : journal ? 'resume' : 'start';
const attempt = (status?.attempt ?? 0) + 1;

if (env.DRH_ACTION === 'probe') {
  out({ action, runDir, journal: journal ?? null });
  process.exit(0);
}
/** What the playbook fetches back: reports (encrypted), journals, results, logs, metrics. */
function filesOf() {
  return readdirSync(runDir).filter((f) => /\.(csv|age|jsonl|json|log|prom)$/.test(f) && !f.endsWith('.tmp'));
}

if (action === 'done') {
  out({ ...status, action: 'done', previousAction: status.action, runDir, files: filesOf() });
  process.exit(status.exitCode ?? 0);
}

/** The panel URL and the secret, for da-rotate's environment. */
async function credentials() {
  if (env.DRH_KEY_FILE) {
    return { env: { DA_URL: env.DRH_SERVER || 'https://127.0.0.1:2222' }, args: ['--user', env.DRH_USER || 'admin', '--password-file', env.DRH_KEY_FILE] };
  }
  const command = env.DRH_DA_COMMAND || 'da';
  const extra = env.DRH_USER && env.DRH_USER !== 'admin' ? [`--user=${env.DRH_USER}`] : [];
  const r = await capture(command, ['api-url', ...extra], {});
  const line = r.stdout.split('\n').find((l) => /^https?:\/\//.test(l.trim()));
  // Never echo what `da` printed: it holds the key.
  if (r.code !== 0 || !line) fail(`\`${command} api-url\` ${r.code !== 0 ? `exited ${r.code ?? r.signal}` : 'printed no URL'}: no login key, nothing was sent`);
  const url = new URL(line.trim());
  if (!env.DRH_SERVER) return { env: { DA_URL: url.href }, args: [] };
  return { env: { DA_URL: env.DRH_SERVER, DA_LOGIN_KEY: decodeURIComponent(url.password) }, args: ['--user', decodeURIComponent(url.username)] };
}

function capture(command, args, extraEnv, cwd) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env: { PATH: env.PATH, HOME: env.HOME, LANG: env.LANG, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => resolvePromise({ code: null, signal: null, stdout, stderr: String(e.message) }));
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

function writeWhole(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}

const cred = await credentials();
const common = ['--json', '--state-dir', join(dir, 'state'), '--log-format', 'json'];
if (env.DRH_FINGERPRINT) common.push('--fingerprint', env.DRH_FINGERPRINT);
if (env.DRH_CA) common.push('--ca', env.DRH_CA);
if (env.DRH_METRICS_FILE) common.push('--metrics-file', env.DRH_METRICS_FILE);
let args;
if (action === 'resume') {
  args = ['resume', journal, '--yes', ...common, ...cred.args, ...list('DRH_RESUME_ARGS')];
  if (env.DRH_IDENTITY) args.push('--identity', env.DRH_IDENTITY);
} else if (mode === 'plan') {
  args = ['plan', '--output', join(runDir, `plan-${attempt}.csv`), ...common, ...cred.args, ...list('DRH_ARGS')];
} else {
  const recipients = list('DRH_RECIPIENTS');
  if (!recipients.length) fail('no age recipient: set da_rotate_recipients (the report holds every new password)');
  args = ['rotate', '--yes', '--output', join(runDir, `report-${attempt}.csv`), ...common, ...cred.args];
  for (const r of recipients) args.push('--encrypt-to', r);
  if (mode === 'sweep') args.push('--scope', 'all', '--include', 'all');
  args.push(...list('DRH_ARGS'));
}

const startedAt = new Date().toISOString();
const r = await capture(process.execPath, [join(dir, 'da-rotate.mjs'), ...args], cred.env, runDir);
writeWhole(join(runDir, `attempt-${attempt}.log`), r.stderr);
let summary;
try {
  summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
} catch {
  summary = undefined;
}
const result = {
  runId,
  attempt,
  action,
  mode,
  exitCode: r.code,
  signal: r.signal,
  startedAt,
  finishedAt: new Date().toISOString(),
  summary: summary?.counts ? summary : undefined,
  error: summary?.error ?? (summary?.counts ? summary.aborted : `da-rotate printed no summary (exit ${r.code ?? r.signal}); see attempt-${attempt}.log`),
  journal: journalOf() ?? null,
};
writeWhole(join(runDir, `result-${attempt}.json`), JSON.stringify(result) + '\n');
writeWhole(join(runDir, 'status.json'), JSON.stringify(result) + '\n');
out({ ...result, runDir, files: filesOf() });
process.exit(r.code ?? 4);
