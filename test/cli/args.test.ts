import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastParse, parseWithYargs, type ParsedCommand } from '../../src/cli-args.js';

/** What yargs hands the command for this command line, or its usage error. */
async function viaYargs(raw: string[]): Promise<ParsedCommand | { error: string }> {
  let result: ParsedCommand | { error: string } | undefined;
  await parseWithYargs(
    raw,
    {
      onCommand: async (p) => {
        result = p;
      },
      onFail: (message) => {
        result = { error: message };
      },
    },
    '9.9.9',
  );
  assert.ok(result, `yargs neither ran a command nor failed for ${raw.join(' ')}`);
  return result;
}

/** yargs leaves keys of options that were not given as undefined; the fast path leaves them out. */
function defined(argv: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(argv).filter(([, v]) => v !== undefined));
}

const PLAIN: string[][] = [
  ['plan'],
  ['rotate', '--yes'],
  ['rotate', '-y', '--concurrency', '16', '--log-level', 'warn', '--output', '/tmp/x.csv'],
  ['plan', '--scope', 'all', '--exclude', 'admin', '--exclude', 'test*', '--only', 'bob,carol'],
  ['plan', '--server=https://da.example.com:2222', '--user', 'admin', '--password-file', '/tmp/pw', '--json'],
  ['rotate', '--yes', '--length', '30', '--symbols', '--retries', '0', '--retry-delay', '0.25', '--max-failures', '5'],
  ['rotate', '--yes', '--same-password-file', '/tmp/s', '--timeout', '5', '--format', 'urlencoded', '--insecure', '--allow-http'],
  ['resume', '/tmp/run.journal.jsonl', '--yes', '--concurrency', '4'],
  ['resume', '--run', '20261129T000000Z-abc123', '--yes'],
  ['rotate', '--yes', '--concurrency', 'auto', '--include', 'email', '--include', 'ftp'],
  ['notify', '--report', '/tmp/r.csv', '--dry-run'],
  ['verify', '/tmp/report.csv', '--fingerprint', 'AA:BB', '--ca', '/tmp/ca.pem', '--password-stdin'],
  ['key-scope', '--scope', 'all', '--json'],
  ['plan', '--users-file', 'users.txt', '--log-level', 'silent'],
];

/** Lines the fast path must leave to yargs: help, errors, and what yargs reads its own way. */
const DECLINED: string[][] = [
  [],
  ['--help'],
  ['plan', '--help'],
  ['plan', '--version'],
  ['rotat'],
  ['plan', '--concurency', '4'],
  ['plan', '--concurrency', '4', '--concurrency', '8'],
  ['plan', '--scope', 'everything'],
  ['plan', '--exclude', 'a', 'b'],
  ['plan', '--exclude', '123'],
  ['plan', '--no-json'],
  ['plan', '--json', 'true'],
  ['plan', '--server'],
  ['plan', '--server', ''],
  ['plan', 'extra'],
  ['plan', '--', '--json'],
  ['resume', 'a', 'b'],
  ['key-scope', '--concurrency', '4'],
  ['rotate', '--timeout', '-1'],
];

describe('command-line parsing without yargs', { timeout: 60_000 }, () => {
  for (const raw of PLAIN) {
    it(`agrees with yargs on: ${raw.join(' ')}`, async () => {
      const fast = fastParse(raw);
      assert.ok(fast, 'the fast path took it');
      const slow = await viaYargs(raw);
      assert.ok(!('error' in slow), `yargs refused it: ${'error' in slow ? slow.error : ''}`);
      assert.equal(fast.command, slow.command);
      assert.deepEqual(defined(fast.argv), defined(slow.argv));
    });
  }

  for (const raw of DECLINED) {
    it(`leaves to yargs: ${raw.join(' ') || '(nothing)'}`, () => {
      assert.equal(fastParse(raw), undefined);
    });
  }

  it('reads the values the way the run needs them', () => {
    const p = fastParse(['rotate', '-y', '--concurrency', '16', '--exclude', 'a', '--exclude', 'b', '--retry-delay', '0.5']);
    assert.ok(p);
    assert.equal(p.command, 'rotate');
    assert.equal(p.argv.yes, true);
    assert.equal(p.argv.concurrency, '16', 'a string: --concurrency also takes auto');
    assert.deepEqual(p.argv.exclude, ['a', 'b']);
    assert.equal(p.argv['retry-delay'], 0.5);
    assert.equal(p.argv.timeout, 30, 'defaults are filled in');
    assert.equal(p.argv['log-level'], undefined, 'no default: it depends on whether stderr is a terminal');
    assert.equal(fastParse(['plan'])!.argv.concurrency, undefined, "no default: resume runs at the journal's");
    assert.equal(p.argv.scope, 'users');
    const r = fastParse(['resume', 'j.jsonl']);
    assert.ok(r);
    assert.equal(r.argv.journal, 'j.jsonl');
    assert.equal(r.argv.scope, undefined, 'resume has no --scope');
  });
});
