import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './cli-runner.js';

/**
 * The operator's own file problems are usage errors: exit 2, one line naming the path, before any
 * request. The "server" here only counts connections: every case must leave it at 0.
 */
const T = { timeout: 60_000 };
let server: Server;
let connections = 0;
let url = '';
let dir = '';

before(async () => {
  dir = tempDir();
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  url = `http://admin:Secret123456@127.0.0.1:${port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function rotate(args: string[]) {
  return runCli(['rotate', '--yes', ...args], { env: { DA_URL: url, XDG_STATE_HOME: join(dir, 'state') } });
}

describe('usage errors of the files the tool writes', T, () => {
  it('an existing --output file exits 2 before any request, naming it, and is left untouched', async () => {
    const existing = join(dir, 'existing.csv');
    writeFileSync(existing, 'mine\n', { mode: 0o600 });
    const before = connections;
    const r = await rotate(['--output', existing]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${existing} exists: choose another --output or remove it`));
    assert.equal(connections, before, 'no request was sent');
    assert.equal(readFileSync(existing, 'utf8'), 'mine\n');
  });

  it('a directory given as --output says it is a directory, exit 2, before any request', async () => {
    const before = connections;
    const r = await rotate(['--output', dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is a directory, not a file/);
    assert.equal(connections, before);
  });

  it('an output directory others can write is refused with exit 2 before any request', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const before = connections;
    const r = await rotate(['--output', join(shared, 'r.csv')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is writable by group or others \(mode 777\)/);
    assert.equal(connections, before);
  });

  it('an output directory that cannot be created exits 2 naming it, before any request', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const before = connections;
    const r = await rotate(['--output', join(blocker, 'sub', 'r.csv')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /blocker\/sub\/r.csv \(ENOTDIR\): a directory on that path does not exist or is not a directory/);
    assert.equal(connections, before);
  });
});
