import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InventoryError, parseInventory, selectServers, type InventoryProblem } from '../../src/fleet/inventory.js';
import { resolveConnections } from '../../src/fleet/connect.js';
import { UsageError } from '../../src/errors.js';

const FILE = '/etc/da/fleet.toml';
const FP = 'AB:'.repeat(31) + 'AB';

function problems(text: string): InventoryProblem[] {
  try {
    parseInventory(text, FILE);
  } catch (e) {
    assert.ok(e instanceof InventoryError, `expected an InventoryError, got ${String(e)}`);
    assert.ok(e instanceof UsageError, 'an inventory error is a usage error (exit 2)');
    return e.problems;
  }
  assert.fail('the inventory was accepted');
}

const GOOD = `# the fleet
[defaults]
user = "admin"
secret_env = "DA_KEY"
concurrency = 8
exclude = ["test*"]

[[server]]
name = "web1"
url = "https://web1.example.com:2222"
fingerprint = "${FP}"
tags = ["eu", "shared"]

[[server]]
name = "web2"
url = "https://web2.example.com"
secret_file = "keys/web2.key"
scope = "all"
exclude = ["demo"]
include = ["email", "ftp"]
tags = ["us"]
concurrency = 4
`;

describe('inventory parsing', { timeout: 10_000 }, () => {
  it('reads defaults and servers, the server overriding the defaults', () => {
    const inv = parseInventory(GOOD, FILE);
    assert.equal(inv.servers.length, 2);
    const [a, b] = inv.servers;
    assert.deepEqual(
      {
        name: a!.name,
        baseUrl: a!.baseUrl,
        user: a!.user,
        secret: a!.secret,
        fingerprint: a!.fingerprint,
        concurrency: a!.concurrency,
        exclude: a!.exclude,
        tags: a!.tags,
        line: a!.line,
      },
      {
        name: 'web1',
        baseUrl: 'https://web1.example.com:2222',
        user: 'admin',
        secret: { env: 'DA_KEY' },
        fingerprint: FP,
        concurrency: 8,
        exclude: ['test*'],
        tags: ['eu', 'shared'],
        line: 8,
      },
    );
    assert.deepEqual(a!.secretAt, { line: 4, key: 'defaults.secret_env' });
    assert.equal(b!.baseUrl, 'https://web2.example.com:2222');
    assert.deepEqual(b!.secret, { file: '/etc/da/keys/web2.key' });
    assert.deepEqual(b!.secretAt, { line: 17, key: 'server "web2".secret_file' });
    assert.equal(b!.scope, 'all');
    assert.equal(b!.concurrency, 4);
    assert.deepEqual(b!.exclude, ['test*', 'demo'], 'exclusions of [defaults] and of the server add up');
    assert.deepEqual(b!.include, ['email', 'ftp']);
  });

  it('a syntax error names the file and the line', () => {
    const p = problems('[[server]]\nname = "a"\nurl = "https://x\n');
    assert.equal(p.length, 1);
    assert.equal(p[0]!.line, 3);
    assert.equal(p[0]!.key, '(syntax)');
    assert.throws(
      () => parseInventory('[[server]]\nname = "a"\nurl = "https://x\n', FILE),
      (e: Error) => e.message.includes('/etc/da/fleet.toml:3:'),
    );
  });

  it('every semantic problem is reported together, each with its line and key', () => {
    const text = [
      '[defaults]', //                              1
      'user = "admin"', //                          2
      'colour = "blue"', //                         3 unknown key in defaults
      '', //                                        4
      '[[server]]', //                              5
      'name = "web 1"', //                          6 bad name
      'url = "https://a.example.com"', //           7
      'secret_env = "DA_KEY"', //                   8
      'concurency = 4', //                          9 typo: unknown key
      '', //                                        10
      '[[server]]', //                              11
      'name = "b"', //                              12
      'url = "ftp://b.example.com"', //             13 bad url
      'secret_env = "DA_KEY"', //                   14
      'concurrency = 100', //                       15 out of range
      'scope = "everything"', //                    16 bad scope
      'tags = "eu"', //                             17 not an array
      '', //                                        18
      '[[server]]', //                              19
      'name = "b"', //                              20 duplicate
      'url = "https://c.example.com"', //           21
      'secret_env = "1BAD"', //                     22 bad env name
      'fingerprint = "12:34"', //                   23 bad fingerprint
    ].join('\n');
    const p = problems(text).map((x) => `${x.line} ${x.key}`);
    assert.deepEqual(p, [
      '3 defaults.colour',
      '6 server[0].name',
      '9 server[0].concurency',
      '13 server "b".url',
      '15 server "b".concurrency',
      '16 server "b".scope',
      '17 server "b".tags',
      '20 server "b".name',
      '22 server "b".secret_env',
      '23 server "b".fingerprint',
    ]);
    assert.throws(
      () => parseInventory(text, FILE),
      (e: Error) =>
        e.message.includes('/etc/da/fleet.toml:20: server "b".name: duplicate: "b" is already the name of the server at line 12') &&
        e.message.includes('/etc/da/fleet.toml:9: server[0].concurency: unknown key'),
    );
  });

  it('a secret in the file is refused, whatever the key, and so is a URL holding one', () => {
    const text = [
      '[defaults]',
      'password = "hunter22"', // 2
      '',
      '[[server]]',
      'name = "a"',
      'url = "https://admin:KEY123@a.example.com"', // 6
      'user = "admin"',
      'secret_env = "X"',
      'login_key = "abc"', // 9
      'admin_password = "x"', // 10
    ].join('\n');
    const p = problems(text);
    assert.deepEqual(
      p.map((x) => `${x.line} ${x.key}`),
      ['2 defaults.password', '6 server "a".url', '9 server "a".login_key', '10 server "a".admin_password'],
    );
    for (const x of p) assert.ok(!x.message.includes('hunter22') && !x.message.includes('KEY123'), 'a message never repeats the secret');
    assert.match(p[0]!.message, /never holds a secret/);
  });

  it('needs exactly one secret source, a user, a url and a name', () => {
    const p = problems(
      '[[server]]\nname = "a"\nurl = "https://a.example.com"\nuser = "admin"\nsecret_env = "A"\nsecret_file = "/k"\n\n[[server]]\nurl = "https://b.example.com"\n',
    );
    assert.deepEqual(
      p.map((x) => `${x.line} ${x.key}`),
      ['6 server "a".secret_file', '8 server[1].name', '8 server[1].user', '8 server[1].secret_env'],
    );
  });

  it('plain http to a remote host and stray tables are refused', () => {
    const p = problems('[[server]]\nname = "a"\nurl = "http://a.example.com:2222"\nuser = "u"\nsecret_env = "A"\n\n[extra]\nx = 1\n');
    assert.deepEqual(
      p.map((x) => `${x.line} ${x.key}`),
      ['3 server "a".url', '7 extra'],
    );
  });

  it('--servers selects by name or tag, in inventory order; an unknown one is an error', () => {
    const inv = parseInventory(GOOD, FILE);
    assert.deepEqual(
      selectServers(inv, []).map((s) => s.name),
      ['web1', 'web2'],
    );
    assert.deepEqual(
      selectServers(inv, ['us']).map((s) => s.name),
      ['web2'],
    );
    assert.deepEqual(
      selectServers(inv, ['web2', 'eu']).map((s) => s.name),
      ['web1', 'web2'],
    );
    assert.throws(
      () => selectServers(inv, ['web3', 'asia']),
      (e: Error) => e instanceof UsageError && e.message.includes('"web3", "asia" is neither a server name nor a tag'),
    );
  });
});

describe('inventory secrets', { timeout: 10_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'da-fleet-inv-'));
  const file = join(dir, 'fleet.toml');
  const text = (secretFile: string) =>
    `[[server]]\nname = "a"\nurl = "https://a.example.com"\nuser = "admin"\nsecret_env = "A_KEY"\n\n[[server]]\nname = "b"\nurl = "https://b.example.com"\nuser = "admin"\nsecret_file = "${secretFile}"\n`;
  const common = { timeoutMs: 30_000, format: 'json' as const };

  it('reads the secret from the environment and from a 0600 file relative to the inventory', () => {
    writeFileSync(join(dir, 'b.key'), 'file-secret-b\n', { mode: 0o600 });
    const inv = parseInventory(text('b.key'), file);
    const conns = resolveConnections(inv, inv.servers, { A_KEY: 'env-secret-a' }, common);
    assert.deepEqual(
      conns.map((c) => [c.server.name, c.connection.secret, c.connection.secretSource]),
      [
        ['a', 'env-secret-a', 'secret_env:A_KEY'],
        ['b', 'file-secret-b', 'secret_file'],
      ],
    );
  });

  it('a secret_file readable by group or others and a missing variable are both reported, with lines', () => {
    writeFileSync(join(dir, 'open.key'), 'file-secret\n');
    chmodSync(join(dir, 'open.key'), 0o640);
    const inv = parseInventory(text('open.key'), file);
    assert.throws(
      () => resolveConnections(inv, inv.servers, {}, common),
      (e: Error) => {
        assert.ok(e instanceof InventoryError);
        assert.deepEqual(
          e.problems.map((p) => `${p.line} ${p.key}`),
          ['5 server "a".secret_env', '11 server "b".secret_file'],
        );
        assert.match(e.problems[0]!.message, /A_KEY .*not set/);
        assert.match(e.problems[1]!.message, /readable by group or others \(mode 640\); run chmod 600/);
        assert.ok(e.message.includes(`${file}:11:`));
        return true;
      },
    );
  });
});
