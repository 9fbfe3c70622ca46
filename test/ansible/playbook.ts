/**
 * `npm run test:ansible`: deploy/ansible/site.yml run by ansible-playbook against three "servers"
 * on localhost (connection: local), each with its own simulator as its panel, its own directory and
 * a stub `da` that prints the simulator's URL with the admin key, as `da api-url` does.
 *
 * First run: host1 rotates; host2's `da api-url` fails (no key: nothing sent, the others go on);
 * host3 stops after a refused change (--max-failures 1), leaving accounts not started.
 * Rerun with the run id: host1 is not rotated again, host2 starts, host3 resumes its journal.
 * Every host's fetched report is decrypted (the `age` tool when installed, else age-encryption)
 * and checked against its simulator's live passwords; Ansible's output holds no secret.
 *
 * Not part of `npm test` (it needs ansible-core: `apt-get install ansible-core`); .ci/run runs it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { parse } from 'csv-parse/sync';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daUrl, ROOT } from '../e2e/cli-runner.js';

const HAS_ANSIBLE = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { stdio: 'ignore' }).status === 0;
const AGE_TOOL = spawnSync('sh', ['-c', 'command -v age'], { stdio: 'ignore' }).status === 0;
const SKIP = HAS_ANSIBLE ? false : 'ansible-playbook not found: install ansible-core (apt-get install -y ansible-core) to run the playbook test';
const PLAYBOOK = join(ROOT, 'deploy', 'ansible', 'site.yml');
const HOSTS = ['host1', 'host2', 'host3'] as const;
const USERS = 16;

interface HostRow {
  host: string;
  action: string;
  exitCode: number | null;
  rotated: number;
  failed: number;
  unknown: number;
  notStarted: number;
  report: string;
  error: string;
}

type Row = Record<'username' | 'kind' | 'status' | 'password', string>;

function ansible(args: string[], root: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ansible-playbook', args, {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: root,
        LANG: 'C.UTF-8',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_LOCAL_TEMP: join(root, 'ansible-tmp'),
        ANSIBLE_REMOTE_TEMP: join(root, 'ansible-tmp'),
        ANSIBLE_RETRY_FILES_ENABLED: '0',
        ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, out });
    });
  });
}

describe('deploy/ansible/site.yml over three servers on localhost', { skip: SKIP, timeout: 600_000 }, () => {
  let root = '';
  const sims = new Map<string, Simulator>();
  const initial = new Map<string, Map<string, string>>();
  let identity = '';
  let identityFile = '';
  let recipient = '';
  let inventory = '';

  before(async () => {
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    root = mkdtempSync(join(tmpdir(), 'da-rotate-ansible-'));
    identity = await generateIdentity();
    recipient = await identityToRecipient(identity);
    identityFile = join(root, 'fleet-run.key');
    writeFileSync(identityFile, `# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    const hostLines: string[] = [];
    for (const host of HOSTS) {
      const sim = await startSimulator({ users: USERS, resellers: 0 });
      sims.set(host, sim);
      initial.set(host, new Map(sim.accounts().map((a) => [a.username, a.password])));
      // The stub `da`: `da api-url` prints the panel URL with the admin key; with a `broken` file beside it, it fails.
      const bin = join(root, 'bin', host);
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'url'), daUrl(sim) + '\n', { mode: 0o600 });
      writeFileSync(
        join(bin, 'da'),
        '#!/bin/sh\nd=$(dirname "$0")\n[ "$1" = api-url ] || { echo "da: unknown command" >&2; exit 2; }\n[ -e "$d/broken" ] && { echo "da: cannot create a login key" >&2; exit 1; }\ncat "$d/url"\n',
      );
      chmodSync(join(bin, 'da'), 0o755);
      hostLines.push(
        `        ${host}:`,
        `          da_rotate_remote_dir: ${join(root, 'servers', host)}`,
        `          da_rotate_da_command: ${join(bin, 'da')}`,
      );
    }
    writeFileSync(join(root, 'bin', 'host2', 'broken'), '');
    // host3: one account's change is refused (HTTP 500, nothing applied); --max-failures 1 stops the run there.
    sims.get('host3')!.setFaults({ error500: { users: ['user00004'], commands: ['CMD_API_USER_PASSWD'] } });
    hostLines.push(`          da_rotate_args: ['--concurrency', '1', '--retries', '0', '--max-failures', '1']`);
    inventory = join(root, 'inventory.yml');
    writeFileSync(
      inventory,
      ['all:', '  children:', '    da_servers:', '      vars:', '        ansible_connection: local', '      hosts:', ...hostLines, ''].join('\n'),
    );
    writeFileSync(join(root, 'vars.json'), JSON.stringify({ da_rotate_recipients: [recipient], da_rotate_fetch_dir: join(root, 'fetched') }));
  });

  after(async () => {
    for (const sim of sims.values()) await sim.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function decrypt(path: string): Promise<Row[]> {
    let csv: string;
    if (AGE_TOOL) {
      const r = spawnSync('age', ['-d', '-i', identityFile, path]);
      assert.equal(r.status, 0, `age -d ${path}: ${r.stderr?.toString()}`);
      csv = r.stdout.toString('utf8');
    } else {
      const d = new Decrypter();
      d.addIdentity(identity);
      csv = Buffer.from(await d.decrypt(readFileSync(path))).toString('utf8');
    }
    return parse<Row>(csv, { columns: true });
  }

  /** The host's fetched report, decrypted; every `rotated` row's password is live on its simulator. */
  async function checkReport(runId: string, host: string, row: HostRow): Promise<Row[]> {
    const dir = join(root, 'fetched', runId, host);
    const reports = readdirSync(dir).filter((f) => f.endsWith('.csv.age'));
    assert.equal(reports.length, 1, `${host}: one encrypted report fetched (${readdirSync(dir).join(', ')})`);
    assert.ok(
      readdirSync(dir).some((f) => f.endsWith('.journal.jsonl')),
      `${host}: its journal fetched`,
    );
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.csv')), `${host}: no report in clear`);
    const rows = await decrypt(join(dir, reports[0]!));
    const sim = sims.get(host)!;
    const rotated = rows.filter((r) => r.status === 'rotated');
    assert.equal(rotated.length, row.rotated, `${host}: the summary's count is the report's`);
    for (const r of rotated) assert.equal(sim.password(r.username), r.password, `${host} ${r.username}: the report's password is live`);
    // Everything else fetched (journal, results, da-rotate's log) holds no secret in clear.
    for (const f of readdirSync(dir).filter((x) => !x.endsWith('.age'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.ok(!text.includes(sim.adminPassword), `${host}/${f} holds the admin key`);
      for (const r of rotated) assert.ok(!text.includes(r.password), `${host}/${f} holds ${r.username}'s new password in clear`);
    }
    return rows;
  }

  /** Every secret that must never show in Ansible's output: admin keys and every account's password. */
  function assertNoSecrets(out: string): void {
    for (const [host, sim] of sims) {
      assert.ok(!out.includes(sim.adminPassword), `${host}'s admin key in Ansible's output`);
      for (const a of sim.accounts()) assert.ok(!out.includes(a.password), `${host} ${a.username}'s password in Ansible's output`);
    }
  }

  it('first run: one host rotates, one fails without touching its panel, one stops; the rerun skips, starts and resumes', async () => {
    const t1 = Date.now();
    const first = await ansible(['-i', inventory, PLAYBOOK, '-e', `@${join(root, 'vars.json')}`], root);
    const firstMs = Date.now() - t1;
    assert.notEqual(first.code, 0, 'a host that did not finish makes the playbook fail, after the summary');
    assert.match(first.out, /did not finish cleanly: host2, host3/);
    assertNoSecrets(first.out);
    const runs = readdirSync(join(root, 'fetched'));
    assert.equal(runs.length, 1, 'one run id');
    const runId = runs[0]!;
    assert.match(runId, /^\d{8}T\d{6}Z$/);
    const s1 = JSON.parse(readFileSync(join(root, 'fetched', runId, 'summary.json'), 'utf8')) as { runId: string; hosts: HostRow[] };
    assert.equal(s1.runId, runId);
    const by1 = new Map(s1.hosts.map((h) => [h.host, h]));
    assert.deepEqual([...by1.keys()].sort(), [...HOSTS]);

    // host1: every account rotated, the report's passwords live.
    const h1 = by1.get('host1')!;
    assert.equal(h1.action, 'start');
    assert.equal(h1.exitCode, 0, h1.error);
    assert.equal(h1.rotated, USERS);
    await checkReport(runId, 'host1', h1);
    const afterFirst1 = new Map(
      sims
        .get('host1')!
        .accounts()
        .map((a) => [a.username, a.password]),
    );

    // host2: no key, nothing sent: every password is the one it had.
    const h2 = by1.get('host2')!;
    assert.equal(h2.exitCode, 2);
    assert.match(h2.error, /api-url` exited 1: no login key, nothing was sent/);
    for (const a of sims.get('host2')!.accounts()) assert.equal(a.password, initial.get('host2')!.get(a.username), a.username);

    // host3: stopped by --max-failures, some rotated (live), the rest not started (unchanged).
    const h3 = by1.get('host3')!;
    assert.equal(h3.exitCode, 3, h3.error);
    assert.ok(h3.rotated > 0 && h3.notStarted > 0, JSON.stringify(h3));
    const rows3 = await checkReport(runId, 'host3', h3);
    const rotatedFirst3 = new Map(rows3.filter((r) => r.status === 'rotated').map((r) => [r.username, r.password]));
    for (const r of rows3.filter((x) => x.status === 'not-started'))
      assert.equal(sims.get('host3')!.password(r.username), initial.get('host3')!.get(r.username));

    // Rerun the same run id once host2 has a key and host3's panel accepts the change.
    rmSync(join(root, 'bin', 'host2', 'broken'));
    sims.get('host3')!.setFaults({});
    const t2 = Date.now();
    const second = await ansible(
      ['-i', inventory, PLAYBOOK, '-e', `@${join(root, 'vars.json')}`, '-e', `da_rotate_run_id=${runId}`, '-e', `da_rotate_identity_file=${identityFile}`],
      root,
    );
    const secondMs = Date.now() - t2;
    assert.equal(second.code, 0, second.out);
    assertNoSecrets(second.out);
    const s2 = JSON.parse(readFileSync(join(root, 'fetched', runId, 'summary.json'), 'utf8')) as { hosts: HostRow[] };
    const by2 = new Map(s2.hosts.map((h) => [h.host, h]));

    // host1 finished: not rotated again.
    assert.equal(by2.get('host1')!.action, 'done');
    for (const a of sims.get('host1')!.accounts()) assert.equal(a.password, afterFirst1.get(a.username), `host1 ${a.username} not rotated twice`);
    // host2 starts now.
    const r2 = by2.get('host2')!;
    assert.equal(r2.action, 'start');
    assert.equal(r2.exitCode, 0, r2.error);
    assert.equal(r2.rotated, USERS);
    await checkReport(runId, 'host2', r2);
    // host3 resumes its journal: what the first run rotated keeps its password, the rest is done now.
    const r3 = by2.get('host3')!;
    assert.equal(r3.action, 'resume');
    assert.equal(r3.exitCode, 0, r3.error);
    assert.equal(r3.rotated, USERS);
    const rows3b = await checkReport(runId, 'host3', r3);
    for (const [user, pw] of rotatedFirst3) assert.equal(rows3b.find((r) => r.username === user)?.password, pw, `${user} kept its first-run password`);
    // The identity was on host3 only for the resume.
    for (const host of HOSTS) assert.ok(!existsSync(join(root, 'servers', host, 'runs', runId, 'resume-identity.txt')), host);

    process.stderr.write(`# ansible: first run ${firstMs} ms, rerun ${secondMs} ms (3 hosts, ${USERS} accounts each)\n`);
  });

  it('plan mode with --limit: the plan of one host, nothing changed, and the summary covers only that host', async () => {
    const before1 = new Map(
      sims
        .get('host1')!
        .accounts()
        .map((a) => [a.username, a.password]),
    );
    const r = await ansible(
      ['-i', inventory, PLAYBOOK, '-e', `@${join(root, 'vars.json')}`, '-e', 'da_rotate_run_id=audit-1', '-e', 'da_rotate_mode=plan', '--limit', 'host1'],
      root,
    );
    assert.equal(r.code, 0, r.out);
    const s = JSON.parse(readFileSync(join(root, 'fetched', 'audit-1', 'summary.json'), 'utf8')) as { hosts: Array<HostRow & { planned: number }> };
    assert.deepEqual(
      s.hosts.map((h) => [h.host, h.action, h.exitCode, h.planned]),
      [['host1', 'start', 0, USERS]],
    );
    const rows = parse<Row>(readFileSync(join(root, 'fetched', 'audit-1', 'host1', 'plan-1.csv'), 'utf8'), { columns: true });
    assert.equal(rows.filter((x) => x.status === 'planned').length, USERS);
    assert.ok(
      rows.every((x) => x.password === ''),
      'a plan holds no secret',
    );
    for (const a of sims.get('host1')!.accounts()) assert.equal(a.password, before1.get(a.username), `${a.username} unchanged by plan`);
  });
});
