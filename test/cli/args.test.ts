import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseWithYargs, type ParsedCommand } from '../../src/cli-args.js';
import { UsageError } from '../../src/errors.js';
import { checkedArgv, OPTIONS, optionValue, type ArgvOf, type OptionName, type RawArgv } from '../../src/options.js';

/** What yargs hands the command for this command line, or its usage error. */
async function viaYargs(raw: string[]): Promise<ParsedCommand | { error: string }> {
  let result: ParsedCommand | { error: string } | undefined;
  await parseWithYargs(
    raw,
    {
      onCommand: async (p) => {
        result ??= p; // a usage error the handler did not exit on must not be overwritten by the run
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

/** What yargs prints for a help request on this command line (captured from stdout). */
async function helpText(raw: string[]): Promise<string> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const exit = process.exit.bind(process);
  process.stdout.write = (chunk: string) => ((out += chunk), true);
  process.exit = (code?: number) => {
    assert.equal(code ?? 0, 0, 'help exits 0');
    throw new Error('help exit');
  };
  try {
    await parseWithYargs(raw, { onCommand: async () => assert.fail('help ran a command'), onFail: (m) => assert.fail(`help failed: ${m}`) }, '9.9.9', 100);
  } catch (e) {
    if (!(e instanceof Error && e.message === 'help exit')) throw e;
  } finally {
    process.stdout.write = write;
    process.exit = exit;
  }
  return out;
}

describe('command-line parsing: yargs, every line', { timeout: 60_000 }, () => {
  it('reads the values the way the run needs them', async () => {
    const p = await viaYargs(['rotate', '-y', '--concurrency', '16', '--exclude', 'a', '--exclude', 'b', '--retry-delay', '0.5']);
    assert.ok(!('error' in p), 'error' in p ? p.error : '');
    assert.equal(p.command, 'rotate');
    assert.equal(p.argv.yes, true);
    assert.equal(p.argv.concurrency, '16', 'a string: --concurrency also takes auto');
    assert.deepEqual(p.argv.exclude, ['a', 'b']);
    assert.equal(p.argv['retry-delay'], 0.5);
    assert.equal(p.argv.timeout, 30, 'defaults are filled in');
    assert.equal(p.argv['log-level'], undefined, 'no default: it depends on whether stderr is a terminal');
    const plan = await viaYargs(['plan']);
    assert.ok(!('error' in plan));
    assert.equal(plan.argv.concurrency, undefined, "no default: resume runs at the journal's");
    assert.equal(p.argv.scope, 'users');
    const r = await viaYargs(['resume', 'j.jsonl']);
    assert.ok(!('error' in r));
    assert.equal(r.argv.journal, 'j.jsonl');
    assert.equal(r.argv.scope, undefined, 'resume has no --scope');
  });

  for (const raw of [['rotat'], ['plan', '--concurency', '4'], []]) {
    it(`refuses: ${raw.join(' ')}`, async () => {
      const r = await viaYargs(raw);
      assert.ok('error' in r, `yargs took it: ${JSON.stringify(r)}`);
    });
  }

  it("a command's help (-h or --help) shows that command's options, examples and exit codes only", async () => {
    for (const flag of ['-h', '--help']) {
      const rotate = await helpText(['rotate', flag]);
      assert.match(rotate, /--include/);
      assert.match(rotate, /Examples:/);
      assert.match(rotate, /Exit codes: 0 all done/);
      assert.doesNotMatch(rotate, /--eml-dir/, "notify's options are not rotate's");
      assert.doesNotMatch(rotate, /--keep\b/, "prune's options are not rotate's");
      const notify = await helpText(['notify', flag]);
      assert.match(notify, /--eml-dir/);
      assert.doesNotMatch(notify, /--max-failures/);
    }
    assert.match(await helpText(['-h']), /Commands:/);
  });
});

/** The usage error reading option `name` from `raw` throws (exit code 2), or a failure naming the value it read. */
function refusal(raw: RawArgv, name: OptionName): string {
  try {
    const v = optionValue(raw, name);
    return `accepted: ${JSON.stringify(v)}`;
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.exitCode, 2);
    return e.message;
  }
}

describe("the one validator: each option's range from its table entry", { timeout: 10_000 }, () => {
  // [option, value as yargs hands it over, the one-line error]. NaN is what yargs makes of a word given to a number option.
  const REFUSED: Array<[OptionName, unknown, string]> = [
    ['timeout', 0, '--timeout must be a number from 1 to 600 (got 0)'],
    ['timeout', 601, '--timeout must be a number from 1 to 600 (got 601)'],
    ['timeout', NaN, '--timeout must be a number from 1 to 600 (a word that is not a number was given)'],
    ['timeout', [5, 6], '--timeout must be a number from 1 to 600 (got [5,6])'],
    ['length', 11, '--length must be a number from 12 to 128 (got 11)'],
    ['length', 129, '--length must be a number from 12 to 128 (got 129)'],
    ['length', 20.5, '--length must be a whole number (got 20.5)'],
    ['concurrency', '0', '--concurrency must be a whole number from 1 to 64, or auto (got "0")'],
    ['concurrency', '65', '--concurrency must be a whole number from 1 to 64, or auto (got "65")'],
    ['concurrency', '2.5', '--concurrency must be a whole number from 1 to 64, or auto (got "2.5")'],
    ['concurrency', 'abc', '--concurrency must be a whole number from 1 to 64, or auto (got "abc")'],
    ['concurrency', ['4', '8'], '--concurrency was given more than once; give it once'],
    ['retries', 11, '--retries must be a number from 0 to 10 (got 11)'],
    ['retries', 2.5, '--retries must be a whole number (got 2.5)'],
    ['retries', NaN, '--retries must be a number from 0 to 10 (a word that is not a number was given)'],
    ['retry-delay', 61, '--retry-delay must be a number from 0 to 60 (got 61)'],
    ['retry-delay', -0.5, '--retry-delay must be a number from 0 to 60 (got -0.5)'],
    ['max-failures', -1, '--max-failures must be a number from 0 to 1000000 (got -1)'],
    ['max-failures', 1.5, '--max-failures must be a whole number (got 1.5)'],
    ['parallel-servers', 0, '--parallel-servers must be a whole number from 1 to 256 (got 0)'],
    ['parallel-servers', 257, '--parallel-servers must be a whole number from 1 to 256 (got 257)'],
    ['parallel-servers', 2.5, '--parallel-servers must be a whole number from 1 to 256 (got 2.5)'],
    ['parallel-servers', NaN, '--parallel-servers must be a whole number from 1 to 256 (a word that is not a number was given)'],
    ['rate', 1001, '--rate must be a number of messages per second from 0 (no limit) to 1000 (got 1001)'],
    ['rate', -1, '--rate must be a number of messages per second from 0 (no limit) to 1000 (got -1)'],
    ['accounts', -1, '--accounts must be a whole number of accounts (e.g. --accounts 2005)'],
    ['accounts', 10_000_001, '--accounts must be a whole number of accounts (e.g. --accounts 2005)'],
    ['accounts', 2.5, '--accounts must be a whole number of accounts (e.g. --accounts 2005)'],
    ['keep', -1, '--keep must be a whole number of runs (e.g. --keep 30)'],
    ['keep', 1.5, '--keep must be a whole number of runs (e.g. --keep 30)'],
    ['fingerprint', 'AB'.repeat(31), '--fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons allowed (AA:BB:...)'],
    ['fingerprint', 'ZZ'.repeat(32), '--fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons allowed (AA:BB:...)'],
    ['to-override', 'not-an-address', '--to-override: "not-an-address" is not an e-mail address'],
    ['deadline', 'soon', '--deadline must be a duration like 90s, 15m or 2h (got soon)'],
    ['deadline', '0.5s', '--deadline must be at least 1s (got 0.5s)'],
    ['deadline', '', '--deadline must be a duration like 90s, 15m or 2h (got )'],
    ['older-than', '30 days', '--older-than must be a duration like 90s, 15m or 2h (got 30 days)'],
    ['scope', 'everything', '--scope must be "users" or "all"'],
    ['deliver', 'sms', '--deliver must be "password" or "login-link"'],
    ['format', 'xml', '--format must be "json" or "urlencoded"'],
    ['log-format', 'yaml', '--log-format must be "text" or "json"'],
    ['log-level', 'loud', '--log-level must be "trace", "debug", "info", "warn", "error", "fatal" or "silent"'],
    ['server', ['https://a', 'https://b'], '--server was given more than once; give it once'],
    ['inventory', '', '--inventory needs a value; give one or leave the flag out'],
    ['run', '', '--run needs a value; give one or leave the flag out'],
    ['exclude', [], '--exclude needs a value (e.g. --exclude NAME); give one or leave the flag out'],
    ['include', [' , '], '--include needs a value (e.g. --include NAME); give one or leave the flag out'],
  ];
  for (const [name, value, message] of REFUSED) {
    it(`refuses --${name} ${JSON.stringify(value)}`, () => {
      assert.equal(refusal({ [name]: value }, name), message);
    });
  }

  it('accepts the ends of each range, and reads each value as the run uses it', () => {
    const accepted: Array<[OptionName, unknown, unknown]> = [
      ['timeout', 1, 1],
      ['timeout', 600, 600],
      ['timeout', '5', 5],
      ['length', 12, 12],
      ['length', 128, 128],
      ['concurrency', '1', 1],
      ['concurrency', '64', 64],
      ['concurrency', 'auto', 'auto'],
      ['concurrency', ' AUTO ', 'auto'],
      ['retries', 0, 0],
      ['retries', 10, 10],
      ['retry-delay', 0, 0],
      ['retry-delay', 60, 60],
      ['max-failures', 1_000_000, 1_000_000],
      ['parallel-servers', 256, 256],
      ['rate', 0, 0],
      ['rate', 1000, 1000],
      ['rate', 0.5, 0.5],
      ['accounts', 0, 0],
      ['keep', 0, 0],
      ['keep', 5000, 5000],
      ['fingerprint', 'ab:'.repeat(31) + 'ab', 'ab:'.repeat(31) + 'ab'],
      ['fingerprint', 'AB'.repeat(32), 'AB'.repeat(32)],
      ['to-override', 'ops@example.com', 'ops@example.com'],
      ['deadline', '90s', 90_000],
      ['deadline', '15m', 900_000],
      ['deadline', '2h', 7_200_000],
      ['deadline', '1500ms', 1500],
      ['older-than', '30d', 2_592_000_000],
      ['older-than', '12h', 43_200_000],
      ['exclude', ['a', 'b,c', ' d '], ['a', 'b', 'c', 'd']],
      ['scope', 'all', 'all'],
      ['server', '', undefined],
      ['server', 'https://da.example.com:2222', 'https://da.example.com:2222'],
      ['insecure', true, true],
      ['symbols', false, false],
    ];
    for (const [name, value, read] of accepted) assert.deepEqual(optionValue({ [name]: value }, name), read, `--${name} ${JSON.stringify(value)}`);
  });

  it('fills in what is not given: the default, else undefined; a list is empty', () => {
    const argv = checkedArgv({});
    assert.equal(argv.timeout, 30);
    assert.equal(argv.retries, 3);
    assert.equal(argv.retryDelay, 0.5);
    assert.equal(argv.maxFailures, 0);
    assert.equal(argv.parallelServers, 4);
    assert.equal(argv.rate, 5);
    assert.equal(argv.format, 'json');
    assert.equal(argv.scope, 'users');
    assert.equal(argv.settle, 'verify');
    assert.equal(argv.deliver, 'password');
    assert.equal(argv.yes, false);
    assert.equal(argv.concurrency, undefined, "no default: resume runs at the journal's");
    assert.equal(argv.length, undefined);
    assert.equal(argv.symbols, undefined);
    assert.equal(argv.deadline, undefined);
    assert.equal(argv.logLevel, undefined);
    assert.deepEqual(argv.exclude, []);
    assert.equal(argv.journal, undefined);
  });

  it('checks an option when it is read: one bad flag does not hide the others, and is named each time it is read', () => {
    const argv = checkedArgv({ timeout: 0, server: 'https://h:2222', 'retry-delay': 2 });
    assert.equal(argv.server, 'https://h:2222');
    assert.equal(argv.retryDelay, 2);
    assert.throws(() => argv.timeout, { message: '--timeout must be a number from 1 to 600 (got 0)' });
    assert.throws(() => argv.timeout, { message: '--timeout must be a number from 1 to 600 (got 0)' });
    assert.equal(checkedArgv(argv), argv, 'a checked command line is not wrapped twice');
  });

  it('the help text states the range the validator enforces', () => {
    assert.deepEqual(OPTIONS.concurrency.range, { min: 1, max: 64, whole: true });
    assert.ok(OPTIONS.concurrency.describe.startsWith('Requests in flight at once: 1 to 64, or auto'), OPTIONS.concurrency.describe);
    assert.deepEqual(OPTIONS.retries.range, { min: 0, max: 10, whole: true });
    assert.ok(OPTIONS.retries.describe.endsWith('(0 to 10)'), OPTIONS.retries.describe);
    assert.deepEqual(OPTIONS['parallel-servers'].range, { min: 1, max: 256, whole: true });
    assert.ok(OPTIONS['parallel-servers'].describe.endsWith('(1 to 256)'), OPTIONS['parallel-servers'].describe);
    assert.deepEqual(OPTIONS.length.range, { min: 12, max: 128, whole: true });
    assert.ok(OPTIONS.length.describe.startsWith('Password length (12 to 128;'), OPTIONS.length.describe);
  });
});

/** true when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

describe('the argv types are derived from the table (checked by `node scripts/check.mjs typecheck`)', { timeout: 10_000 }, () => {
  it('each option has the type its table entry says; a name the table lacks does not compile', () => {
    const argv = checkedArgv({ concurrency: 'auto', exclude: ['a'], 'log-level': 'debug', 'older-than': '1d' });
    // Each line fails the type-check if the derived type is wrong.
    const concurrency: Equal<typeof argv.concurrency, number | 'auto' | undefined> = true;
    const timeout: Equal<typeof argv.timeout, number> = true;
    const server: Equal<typeof argv.server, string | undefined> = true;
    const exclude: Equal<typeof argv.exclude, string[]> = true;
    const logLevel: Equal<typeof argv.logLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' | undefined> = true;
    const yes: Equal<typeof argv.yes, boolean> = true;
    const symbols: Equal<typeof argv.symbols, boolean | undefined> = true;
    const olderThan: Equal<typeof argv.olderThan, number | undefined> = true;
    const prune: Equal<keyof ArgvOf<'prune'>, 'dir' | 'keep' | 'olderThan' | 'yes' | 'json' | 'quiet'> = true;
    const verify: Equal<'report' extends keyof ArgvOf<'verify'> ? true : false, true> = true;
    assert.deepEqual([concurrency, timeout, server, exclude, logLevel, yes, symbols, olderThan, prune, verify], Array(10).fill(true));
    // @ts-expect-error: no option is called --concurency
    assert.equal(argv.concurency, undefined);
    // @ts-expect-error: options are read by their camelCase names, never by a string
    assert.equal(argv['log-level'], undefined);
    // @ts-expect-error: --timeout is read as a number
    const asText: string = argv.timeout;
    assert.equal(asText, 30);
    // @ts-expect-error: --server may be absent (no default)
    const always: string = argv.server;
    assert.equal(always, undefined);
    const pruneArgv: ArgvOf<'prune'> = argv;
    // @ts-expect-error: prune takes no --server
    assert.equal(pruneArgv.server, undefined);
    // @ts-expect-error: optionValue takes only the table's names
    assert.throws(() => optionValue({}, 'concurency'));
    assert.equal(argv.concurrency, 'auto');
    assert.equal(argv.logLevel, 'debug');
    assert.equal(argv.olderThan, 86_400_000);
  });
});
