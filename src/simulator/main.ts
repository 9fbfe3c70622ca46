/**
 * `da-rotate simulate`: run the bundled DirectAdmin simulator until interrupted. Prints the URL,
 * the certificate fingerprint and the admin credentials (it is a local test server), or one JSON
 * line with --json-status for scripts. With stdin not a terminal, JSON lines on stdin control it:
 * {"faults":{...}} replaces the faults, {"options":{...}} changes run-time options (setOptions), {"stats":true} prints the counters, {"reset":true} zeroes them.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import yargs from 'yargs';
import { randomPassword, startSimulator, type Faults, type FaultRate, type SimulatorOptions } from './server.js';
import { SimulatorSetupError } from './certificate.js';

/** The simulator's options: yargs parses them and writes the help from this table (scripts/options-doc.mjs documents them). */
export const SIM_OPTIONS = {
  users: { type: 'string', describe: 'plain user accounts (default 200, up to 100000)' },
  resellers: { type: 'string', describe: 'resellers (default 3)' },
  admins: { type: 'string', describe: 'extra admins besides the one you log in as (default 1)' },
  seed: { type: 'string', describe: 'layout seed (default 1)' },
  host: { type: 'string', describe: 'listen address (default 127.0.0.1)' },
  port: { type: 'string', describe: 'port (default 0: any free port)' },
  tls: { type: 'boolean', describe: 'HTTPS with a fresh self-signed certificate (fingerprint printed)' },
  'admin-user': { type: 'string', describe: '(default admin)' },
  'admin-password-file': { type: 'string', describe: 'admin password from a file (default: random, printed)' },
  'auth-failure': { type: 'string', describe: 'login-page | evolution-page | 401 | 401-json | not-logged-in (default login-page)' },
  'key-refusal': { type: 'string', describe: 'a key lacking the command: login-page (a failed login) | 403 | refusal' },
  'blacklist-after': { type: 'string', describe: 'failed logins before an IP is blacklisted (default 5, 0 never)' },
  'urlencoded-brackets': { type: 'string', describe: 'plain | encoded (default encoded: list%5B%5D=)' },
  'empty-list': { type: 'string', describe: 'empty-body | no-key (how an empty url-encoded list looks)' },
  'list-style': { type: 'string', describe: 'array | object | wrapped (JSON lists: ["a"], {"0":"a"}, {"list":["a"]})' },
  'json-extended': { type: 'boolean', describe: 'add "extended":"true" to JSON successes' },
  'swap-error-text': { type: 'boolean', describe: 'errors carry the reason in text= and the headline in details=' },
  'needs-https': { type: 'boolean', describe: 'answer everything with X-Use-Https: yes / "use https"' },
  'redirect-to': { type: 'string', describe: 'answer everything with a 302 to URL' },
  'fault-html': { type: 'string', describe: 'rate (0..1) of an HTML page answered after a write applies' },
  entities: { type: 'boolean', describe: 'HTML numeric entities (&#49;) for digits inside values' },
  'difficult-passwords': { type: 'boolean', describe: 'enforce upper, lower, digit and a special character' },
  latency: { type: 'string', describe: 'every request answered this many ms (+ up to --jitter) after it arrives' },
  jitter: { type: 'string', describe: 'up to this many ms more latency, at random' },
  capacity: { type: 'string', describe: 'at most N requests processed at once' },
  'fault-500': { type: 'string', describe: 'rate (0..1) of HTTP 500 answers (faults hit write requests unless --fault-commands)' },
  'fault-reset-before': { type: 'string', describe: 'rate (0..1) of connections reset before a write applies' },
  'fault-reset-after': { type: 'string', describe: 'rate (0..1) of connections reset after a write applies' },
  'fault-empty-after': { type: 'string', describe: 'rate (0..1) of empty answers after a write applies' },
  'fault-hang': { type: 'string', describe: 'rate (0..1) of requests never answered' },
  'fault-commands': { type: 'string', describe: 'the commands those faults hit: comma-separated names or /api/ paths, * = all' },
  trickle: { type: 'string', describe: 'rate (0..1) of answers sent slowly, --trickle-bps bytes a second' },
  'trickle-bps': { type: 'string', describe: 'bytes a second of a trickled answer (default 1)' },
  'trickle-stall': { type: 'boolean', describe: 'a trickled answer sends its headers and then nothing' },
  'degrade-capacity': { type: 'string', describe: 'past N requests at once every request slows by (1 + overload^2)' },
  'verify-invalid-for-suspended': { type: 'boolean', describe: 'VERIFY_PASSWORD answers valid=0 for suspended accounts' },
  'accept-unchanged-password': { type: 'boolean', describe: 'accept a change to the current password silently' },
  'api-with-password-no': { type: 'string', describe: 'accounts whose password is refused for API logins (keys work)' },
  'no-json-api': { type: 'boolean', describe: 'an old server: every /api/ path answers 404 (--no-json-api-answer not-found | login-page | page)' },
  'no-json-api-answer': { type: 'string', describe: 'how an old server answers /api/: not-found | login-page | page' },
  'suspended-answer': { type: 'string', describe: 'password change of a suspended account: success | error (applied either way)' },
  'login-url-owner': { type: 'string', describe: 'login URLs made as admin|user belong to: customer | admin' },
  'ftp-separator': { type: 'string', describe: "between an extra FTP account's name and its domain (default @)" },
  'delete-unknown-key': { type: 'string', describe: 'DELETE of an unknown login key: not-found | no-content' },
  'mailboxes-per-domain': { type: 'string', describe: 'mailboxes of each domain (default 2)' },
  'ftp-per-domain': { type: 'string', describe: 'FTP accounts of each domain (default 1)' },
  'db-users-per-user': { type: 'string', describe: 'database users of each account (default 0)' },
  'login-keys-per-user': { type: 'string', describe: 'login keys of each account (default 0)' },
  'sessions-per-user': { type: 'string', describe: 'open panel sessions of each account (default 0)' },
  'hostile-names': { type: 'string', describe: 'these accounts also list names DirectAdmin never allows (=1+1, CRLF, ../../etc)' },
  'key-commands': { type: 'string', describe: 'create an admin login key allowed only these commands (comma-separated) and print it' },
  'json-status': {
    type: 'boolean',
    describe: 'print one JSON line {url,port,adminUser,adminPassword,fingerprint256,loginKey} (loginKey: with --key-commands, else null)',
  },
} as const satisfies Record<string, { type: 'string' | 'boolean'; describe?: string }>;

type SimValues = { [K in keyof typeof SIM_OPTIONS]?: (typeof SIM_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Parses the simulator's command line with yargs; undefined when help was printed. */
async function parseSimulatorArgs(argv: string[]): Promise<SimValues | undefined> {
  const parsed = await yargs(argv)
    .scriptName('da-rotate simulate')
    .usage(
      '$0 [options]\n\nStart a DirectAdmin stand-in serving the API commands da-rotate uses. With stdin not a terminal, JSON lines on stdin control it (faults, options, stats, reset).',
    )
    // --no-json-api is an option of its own, not the negation of a --json-api.
    .parserConfiguration({ 'boolean-negation': false })
    .options(SIM_OPTIONS)
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    })
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .parseAsync();
  // -h / --help: yargs printed the help (exitProcess(false) hands back instead of exiting).
  if (parsed.help === true) return undefined;
  return parsed;
}

export async function runSimulatorMain(argv: string[]): Promise<number> {
  const values = await parseSimulatorArgs(argv);
  if (!values) return 0;
  const num = (v: string | undefined, name: string, def?: number): number | undefined => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const names = (v: string | undefined): string[] | undefined =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
  const commands = names(values['fault-commands']);
  const rate = (v: string | undefined, name: string): FaultRate | undefined =>
    v === undefined ? undefined : { rate: num(v, name), ...(commands ? { commands } : {}) };
  const degrade = num(values['degrade-capacity'], 'degrade-capacity');
  const trickle = rate(values.trickle, 'trickle');
  const faults: Faults = {
    latencyMs: num(values.latency, 'latency'),
    jitterMs: num(values.jitter, 'jitter'),
    capacity: num(values.capacity, 'capacity'),
    error500: rate(values['fault-500'], 'fault-500'),
    resetBeforeApply: rate(values['fault-reset-before'], 'fault-reset-before'),
    resetAfterApply: rate(values['fault-reset-after'], 'fault-reset-after'),
    emptyAfterApply: rate(values['fault-empty-after'], 'fault-empty-after'),
    hang: rate(values['fault-hang'], 'fault-hang'),
    htmlAfterApply: rate(values['fault-html'], 'fault-html'),
    trickle: trickle && { ...trickle, bytesPerSecond: num(values['trickle-bps'], 'trickle-bps'), stallAfterHeaders: values['trickle-stall'] === true },
    degrade: degrade ? { capacity: degrade } : undefined,
  };
  const keyCommands = names(values['key-commands']);
  if (keyCommands && keyCommands.length === 0) throw new Error('--key-commands needs at least one command, e.g. CMD_API_LOGIN_TEST,CMD_API_SHOW_USERS');
  const oneOf = <T extends string>(v: string | undefined, name: string, allowed: readonly T[]): T | undefined => {
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${name} must be one of ${allowed.join(', ')}`);
    return v as T;
  };
  const options: SimulatorOptions = {
    users: num(values.users, 'users', 200),
    resellers: num(values.resellers, 'resellers', 3),
    extraAdmins: num(values.admins, 'admins', 1),
    seed: num(values.seed, 'seed', 1),
    host: values.host,
    port: num(values.port, 'port', 0),
    tls: values.tls === true,
    adminUser: values['admin-user'],
    adminPassword: values['admin-password-file'] ? readFileSync(values['admin-password-file'], 'utf8').trim() : undefined,
    authFailure: oneOf(values['auth-failure'], 'auth-failure', ['login-page', 'evolution-page', '401', '401-json', 'not-logged-in'] as const),
    keyRefusal: oneOf(values['key-refusal'], 'key-refusal', ['login-page', '403', 'refusal'] as const),
    suspendedPasswordAnswer: oneOf(values['suspended-answer'], 'suspended-answer', ['success', 'error'] as const),
    loginUrlOwner: oneOf(values['login-url-owner'], 'login-url-owner', ['customer', 'admin'] as const),
    noJsonApiAnswer: oneOf(values['no-json-api-answer'], 'no-json-api-answer', ['not-found', 'login-page', 'page'] as const),
    ftpSeparator: values['ftp-separator'],
    deleteUnknownKey: oneOf(values['delete-unknown-key'], 'delete-unknown-key', ['not-found', 'no-content'] as const),
    blacklistAfter: num(values['blacklist-after'], 'blacklist-after'),
    format: {
      bracketStyle: oneOf(values['urlencoded-brackets'], 'urlencoded-brackets', ['plain', 'encoded'] as const) ?? 'encoded',
      emptyList: oneOf(values['empty-list'], 'empty-list', ['empty-body', 'no-key'] as const),
      listStyle: oneOf(values['list-style'], 'list-style', ['array', 'object', 'wrapped'] as const),
      jsonExtended: values['json-extended'] === true,
      entities: values.entities === true,
      swapErrorText: values['swap-error-text'] === true,
    },
    needsHttps: values['needs-https'] === true,
    redirectTo: values['redirect-to'],
    passwordPolicy: { difficult: values['difficult-passwords'] === true },
    verifyInvalidForSuspended: values['verify-invalid-for-suspended'] === true,
    acceptUnchangedPassword: values['accept-unchanged-password'] === true,
    apiWithPasswordNo: names(values['api-with-password-no']),
    jsonApi: values['no-json-api'] !== true,
    mailboxesPerDomain: num(values['mailboxes-per-domain'], 'mailboxes-per-domain'),
    ftpPerDomain: num(values['ftp-per-domain'], 'ftp-per-domain'),
    dbUsersPerUser: num(values['db-users-per-user'], 'db-users-per-user'),
    loginKeysPerUser: num(values['login-keys-per-user'], 'login-keys-per-user'),
    sessionsPerUser: num(values['sessions-per-user'], 'sessions-per-user'),
    hostileNames: names(values['hostile-names']),
    faults,
  };
  let sim;
  try {
    sim = await startSimulator(options);
  } catch (e) {
    if (!(e instanceof SimulatorSetupError)) throw e;
    process.stderr.write(`da-rotate simulate: ${e.message}\n`);
    return 2;
  }
  let loginKey: { name: string; key: string; commands: string[] } | null = null;
  if (keyCommands) {
    const key = randomPassword(32);
    const name = sim.addLoginKey(sim.adminUser, { key, name: 'restricted', commands: keyCommands });
    loginKey = { name, key, commands: keyCommands.map((c) => c.toUpperCase()) };
  }
  // Listen for the stop signals before saying we are up: a script may signal as soon as it reads that.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const status = {
    url: sim.url,
    port: sim.port,
    adminUser: sim.adminUser,
    adminPassword: sim.adminPassword,
    fingerprint256: sim.fingerprint256 ?? null,
    loginKey,
  };
  if (values['json-status']) {
    process.stdout.write(JSON.stringify(status) + '\n');
  } else {
    const n = sim.accounts().length;
    const k = sim.tls ? ' -k' : '';
    process.stdout.write(
      `DirectAdmin simulator listening on ${sim.url} with ${n} accounts\n` +
        (sim.fingerprint256 ? `TLS certificate SHA-256 fingerprint: ${sim.fingerprint256}\n` : '') +
        `Admin: ${sim.adminUser} / ${sim.adminPassword}  (test server only)\n` +
        (loginKey ? `Restricted login key of ${sim.adminUser} (allows only ${loginKey.commands.join(', ')}): ${loginKey.key}\n` : '') +
        `\n` +
        `Try:\n  curl${k} -u '${sim.adminUser}:${sim.adminPassword}' '${sim.url}/CMD_API_SHOW_USERS'\n` +
        `  DA_URL='${sim.url.replace('://', `://${sim.adminUser}:${loginKey ? loginKey.key : sim.adminPassword}@`)}' da-rotate plan${sim.tls ? ` --fingerprint ${sim.fingerprint256}` : ''}\n\n` +
        `Ctrl-C stops it.\n`,
    );
  }
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      try {
        const cmd = JSON.parse(line) as { faults?: Faults; options?: Partial<SimulatorOptions>; stats?: boolean; reset?: boolean };
        if (cmd.options) sim.setOptions(cmd.options);
        if (cmd.faults) sim.setFaults(cmd.faults);
        if (cmd.reset) sim.resetStats();
        if (cmd.stats) process.stdout.write(JSON.stringify({ stats: sim.stats }) + '\n');
      } catch {
        process.stderr.write('simulator: ignored a control line that is not JSON\n');
      }
    });
  }
  await stopped;
  await sim.close();
  return 0;
}
