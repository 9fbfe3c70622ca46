import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, exitOf } from '../e2e/cli-runner.js';
import { loadGenerator, SimulatorSetupError } from '../../src/simulator/certificate.js';

interface Started {
  first: string;
  stop(): Promise<number | null>;
}

/** Starts `da-rotate simulate ARGS` and resolves with the first block of stdout. */
function simulate(args: string[], nodeArgs: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'simulate', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = exitOf(child, 30_000);
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('Ctrl-C') || (args.includes('--json-status') && buf.includes('\n'))) {
        resolve({
          first: buf,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    exited.then((code) => reject(new Error(`exited ${code}: ${err}`)), reject);
  });
}

const basic = (user: string, secret: string) => ({ authorization: 'Basic ' + Buffer.from(`${user}:${secret}`).toString('base64') });

describe('`da-rotate simulate` command line', { timeout: 60_000 }, () => {
  it('the real-server switches of issue 26: a key lacking a command gets a 403, FTP names use the separator given', async () => {
    const sim = await simulate(['--users', '2', '--json-status', '--key-commands', 'CMD_API_LOGIN_TEST', '--key-refusal', '403', '--ftp-separator', '+']);
    try {
      const status = JSON.parse(sim.first.split('\n')[0]!) as { url: string; adminUser: string; adminPassword: string; loginKey: { key: string } };
      const denied = await fetch(`${status.url}/CMD_API_SHOW_USERS`, { headers: basic(status.adminUser, status.loginKey.key) });
      assert.equal(denied.status, 403);
      const ftp = await fetch(`${status.url}/CMD_API_FTP?action=list&domain=user00001.example.net`, {
        headers: basic(`${status.adminUser}|user00001`, status.adminPassword),
      });
      assert.match(await ftp.text(), /%2Buser%30%30%30%30%31%2Eexample%2Enet=/);
    } finally {
      await sim.stop();
    }
  });

  it('--key-commands creates a restricted admin key and prints it (JSON status)', async () => {
    const sim = await simulate(['--users', '3', '--json-status', '--key-commands', 'CMD_API_LOGIN_TEST,CMD_API_SHOW_USERS']);
    try {
      const status = JSON.parse(sim.first.split('\n')[0]!) as { url: string; adminUser: string; loginKey: { name: string; key: string; commands: string[] } };
      assert.equal(status.loginKey.name, 'restricted');
      assert.deepEqual(status.loginKey.commands, ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS']);
      assert.match(status.loginKey.key, /^[A-Za-z0-9]{32}$/);
      const h = basic(status.adminUser, status.loginKey.key);
      const listed = await fetch(`${status.url}/CMD_API_SHOW_USERS`, { headers: h });
      assert.equal(listed.headers.get('x-directadmin'), null);
      assert.match(await listed.text(), /^(list%5B%5D=user%30%30%30%30%3[123](&|$))*$/);
      const refused = await fetch(`${status.url}/CMD_API_USER_PASSWD`, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1234',
      });
      assert.equal(refused.headers.get('x-directadmin'), 'unauthorized');
      await refused.text();
    } finally {
      assert.equal(await sim.stop(), 0);
    }
  });

  it('--key-commands in the human output, with the DA_URL using the key', async () => {
    const sim = await simulate(['--users', '2', '--key-commands', 'CMD_API_LOGIN_TEST']);
    try {
      const m = /^Restricted login key of admin \(allows only CMD_API_LOGIN_TEST\): ([A-Za-z0-9]{32})$/m.exec(sim.first);
      assert.ok(m, sim.first);
      assert.ok(sim.first.includes(`://admin:${m[1]}@`), 'the suggested DA_URL uses the restricted key');
    } finally {
      assert.equal(await sim.stop(), 0);
    }
  });

  it('--tls without the selfsigned package fails with one line saying how to get it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-noselfsigned-'));
    writeFileSync(
      join(dir, 'hooks.mjs'),
      "export async function resolve(specifier, context, next) {\n  if (specifier === 'selfsigned') { const e = new Error(\"Cannot find package 'selfsigned'\"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }\n  return next(specifier, context);\n}\n",
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI, 'simulate', '--tls', '--users', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await exitOf(child, 30_000);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.equal(
      err,
      'da-rotate simulate: the simulator\'s --tls needs the package "selfsigned", a development dependency: run `npm install` in a clone of da-rotate (dev dependencies included), or `npm install selfsigned` next to this install\n',
    );
  });

  it('loadGenerator turns a missing package into a SimulatorSetupError, and passes other errors through', async () => {
    const missing = Object.assign(new Error('nope'), { code: 'ERR_MODULE_NOT_FOUND' });
    await assert.rejects(
      loadGenerator(() => Promise.reject(missing)),
      SimulatorSetupError,
    );
    await assert.rejects(
      loadGenerator(() => Promise.reject(new Error('disk on fire'))),
      /disk on fire/,
    );
  });
});

describe('simulate: its command line (yargs)', { timeout: 30_000 }, () => {
  it('-h and --help print the options from its table and exit 0; an unknown option is a usage error', () => {
    for (const flag of ['-h', '--help']) {
      const r = spawnSync(process.execPath, [CLI, 'simulate', flag], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /--fault-500 +rate \(0\.\.1\) of HTTP 500 answers/);
      assert.match(r.stdout, /--no-json-api/);
    }
    const bad = spawnSync(process.execPath, [CLI, 'simulate', '--fault-501', '0.1'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Unknown argument/);
  });
});
