/**
 * `da-rotate simulate`: run the bundled DirectAdmin simulator until interrupted. Prints the URL,
 * the certificate fingerprint and the admin credentials (it is a local test server), or one JSON
 * line with --json-status for scripts. With stdin not a terminal, JSON lines on stdin control it:
 * {"faults":{...}} replaces the faults, {"options":{...}} changes run-time options (setOptions), {"stats":true} prints the counters, {"reset":true} zeroes them.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { randomPassword, startSimulator, type Faults, type FaultRate, type SimulatorOptions } from './server.js';
import { SimulatorSetupError } from './certificate.js';

const HELP = `Usage: da-rotate simulate [options]

Start a DirectAdmin stand-in serving the legacy API commands da-rotate uses.

  --users N                 plain user accounts (default 200, up to 100000)
  --resellers N             resellers (default 3)
  --admins N                extra admins besides the one you log in as (default 1)
  --seed N                  layout seed (default 1)
  --host H                  listen address (default 127.0.0.1)
  --port N                  port (default 0: any free port)
  --tls                     HTTPS with a fresh self-signed certificate (fingerprint printed)
  --admin-user NAME         (default admin)
  --admin-password-file F   admin password from a file (default: random, printed)
  --auth-failure STYLE      login-page | evolution-page | 401 | 401-json | not-logged-in (default login-page)
  --key-refusal STYLE       a key lacking the command: login-page (a failed login) | 403 | refusal
  --blacklist-after N       failed logins before an IP is blacklisted (default 5, 0 never)
  --urlencoded-brackets S   plain | encoded (default encoded: list%5B%5D=)
  --empty-list S            empty-body | no-key (how an empty url-encoded list looks)
  --list-style S            array | object | wrapped (JSON lists: ["a"], {"0":"a"}, {"list":["a"]})
  --json-extended           add "extended":"true" to JSON successes
  --swap-error-text         errors carry the reason in text= and the headline in details=
  --entities                HTML numeric entities (&#49;) for digits inside values
  --needs-https             answer everything with X-Use-Https: yes / "use https"
  --redirect-to URL         answer everything with a 302 to URL
  --difficult-passwords     enforce upper, lower, digit and a special character
  --latency MS --jitter MS  every request answered MS (+ up to jitter) ms after it arrives
  --capacity N              at most N requests processed at once
  --fault-500 R --fault-reset-before R --fault-reset-after R --fault-empty-after R --fault-hang R
  --fault-html R            fault rates (0..1), by default on write requests only
  --fault-commands LIST     the commands those faults hit: comma-separated names or /api/ paths, * = all
  --trickle R               answer slowly (rate 0..1), --trickle-bps N bytes per second (default 1),
  --trickle-stall           or send the headers and then nothing
  --degrade-capacity N      past N requests at once every request slows by (1 + overload^2)
  --verify-invalid-for-suspended   VERIFY_PASSWORD answers valid=0 for suspended accounts
  --accept-unchanged-password      accept a change to the current password silently
  --api-with-password-no LIST      accounts whose password is refused for API logins (keys work)
  --no-json-api             an old server: every /api/ path answers 404 (--no-json-api-answer
                            not-found | login-page | page)
  --suspended-answer S      password change of a suspended account: success | error (applied either way)
  --login-url-owner S       login URLs made as admin|user belong to: customer | admin
  --ftp-separator C         between an extra FTP account's name and its domain (default @)
  --delete-unknown-key S    DELETE of an unknown login key: not-found | no-content
  --mailboxes-per-domain N --ftp-per-domain N --db-users-per-user N --login-keys-per-user N
  --sessions-per-user N     the other credentials of each account (defaults 2, 1, 0, 0, 0)
  --key-commands LIST       create an admin login key allowed only these commands (comma-separated)
                            and print it: rehearse the restricted key of the README
  --json-status             print one JSON line {url,port,adminUser,adminPassword,fingerprint256,loginKey}
                            (loginKey: {name,key,commands} with --key-commands, else null)
  -h, --help
`;

export async function runSimulatorMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      users: { type: 'string' },
      resellers: { type: 'string' },
      admins: { type: 'string' },
      seed: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      tls: { type: 'boolean' },
      'admin-user': { type: 'string' },
      'admin-password-file': { type: 'string' },
      'auth-failure': { type: 'string' },
      'blacklist-after': { type: 'string' },
      'urlencoded-brackets': { type: 'string' },
      'empty-list': { type: 'string' },
      'list-style': { type: 'string' },
      'json-extended': { type: 'boolean' },
      'swap-error-text': { type: 'boolean' },
      'needs-https': { type: 'boolean' },
      'redirect-to': { type: 'string' },
      'fault-html': { type: 'string' },
      entities: { type: 'boolean' },
      'difficult-passwords': { type: 'boolean' },
      latency: { type: 'string' },
      jitter: { type: 'string' },
      capacity: { type: 'string' },
      'fault-500': { type: 'string' },
      'fault-reset-before': { type: 'string' },
      'fault-reset-after': { type: 'string' },
      'fault-empty-after': { type: 'string' },
      'fault-hang': { type: 'string' },
      'fault-commands': { type: 'string' },
      trickle: { type: 'string' },
      'trickle-bps': { type: 'string' },
      'trickle-stall': { type: 'boolean' },
      'degrade-capacity': { type: 'string' },
      'verify-invalid-for-suspended': { type: 'boolean' },
      'accept-unchanged-password': { type: 'boolean' },
      'api-with-password-no': { type: 'string' },
      'no-json-api': { type: 'boolean' },
      'no-json-api-answer': { type: 'string' },
      'key-refusal': { type: 'string' },
      'suspended-answer': { type: 'string' },
      'login-url-owner': { type: 'string' },
      'ftp-separator': { type: 'string' },
      'delete-unknown-key': { type: 'string' },
      'mailboxes-per-domain': { type: 'string' },
      'ftp-per-domain': { type: 'string' },
      'db-users-per-user': { type: 'string' },
      'login-keys-per-user': { type: 'string' },
      'sessions-per-user': { type: 'string' },
      'key-commands': { type: 'string' },
      'json-status': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
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
