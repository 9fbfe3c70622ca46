/**
 * `da-rotate simulate`: run the bundled DirectAdmin simulator until interrupted. Prints the URL,
 * the certificate fingerprint and the admin credentials (it is a local test server), or one JSON
 * line with --json-status for scripts. With stdin not a terminal, JSON lines on stdin control it:
 * {"faults":{...}} replaces the faults, {"stats":true} prints the counters, {"reset":true} zeroes them.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startSimulator, type Faults, type SimulatorOptions } from './server.js';

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
  --auth-failure STYLE      login-page | evolution-page | 401 | 401-json (default login-page)
  --blacklist-after N       failed logins before an IP is blacklisted (default 5, 0 never)
  --urlencoded-brackets S   plain | encoded (default encoded: list%5B%5D=)
  --empty-list S            empty-body | no-key (how an empty url-encoded list looks)
  --list-style S            array | object | wrapped (JSON lists: ["a"], {"0":"a"}, {"list":["a"]})
  --json-extended           add "extended":"true" to JSON successes
  --entities                HTML numeric entities (&#49;) for digits inside values
  --needs-https             answer everything with X-Use-Https: yes / "use https"
  --redirect-to URL         answer everything with a 302 to URL
  --difficult-passwords     enforce upper, lower, digit and a special character
  --latency MS --jitter MS  added to every request
  --capacity N              at most N requests processed at once
  --fault-500 R --fault-reset-before R --fault-reset-after R --fault-empty-after R --fault-hang R
  --fault-html R            fault rates (0..1) for CMD_API_USER_PASSWD
  --json-status             print one JSON line {url,port,adminUser,adminPassword,fingerprint256}
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
  const rate = (v: string | undefined, name: string) => (v === undefined ? undefined : { rate: num(v, name) });
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
  };
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
    authFailure: oneOf(values['auth-failure'], 'auth-failure', ['login-page', 'evolution-page', '401', '401-json'] as const),
    blacklistAfter: num(values['blacklist-after'], 'blacklist-after'),
    format: {
      bracketStyle: oneOf(values['urlencoded-brackets'], 'urlencoded-brackets', ['plain', 'encoded'] as const) ?? 'encoded',
      emptyList: oneOf(values['empty-list'], 'empty-list', ['empty-body', 'no-key'] as const),
      listStyle: oneOf(values['list-style'], 'list-style', ['array', 'object', 'wrapped'] as const),
      jsonExtended: values['json-extended'] === true,
      entities: values.entities === true,
    },
    needsHttps: values['needs-https'] === true,
    redirectTo: values['redirect-to'],
    passwordPolicy: { difficult: values['difficult-passwords'] === true },
    faults,
  };
  const sim = await startSimulator(options);
  const status = { url: sim.url, port: sim.port, adminUser: sim.adminUser, adminPassword: sim.adminPassword, fingerprint256: sim.fingerprint256 ?? null };
  if (values['json-status']) {
    process.stdout.write(JSON.stringify(status) + '\n');
  } else {
    const n = sim.accounts().length;
    const k = sim.tls ? ' -k' : '';
    process.stdout.write(
      `DirectAdmin simulator listening on ${sim.url} with ${n} accounts\n` +
        (sim.fingerprint256 ? `TLS certificate SHA-256 fingerprint: ${sim.fingerprint256}\n` : '') +
        `Admin: ${sim.adminUser} / ${sim.adminPassword}  (test server only)\n\n` +
        `Try:\n  curl${k} -u '${sim.adminUser}:${sim.adminPassword}' '${sim.url}/CMD_API_SHOW_USERS'\n` +
        `  DA_URL='${sim.url.replace('://', `://${sim.adminUser}:${sim.adminPassword}@`)}' da-rotate plan${sim.tls ? ` --fingerprint ${sim.fingerprint256}` : ''}\n\n` +
        `Ctrl-C stops it.\n`,
    );
  }
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      try {
        const cmd = JSON.parse(line) as { faults?: Faults; stats?: boolean; reset?: boolean };
        if (cmd.faults) sim.setFaults(cmd.faults);
        if (cmd.reset) sim.resetStats();
        if (cmd.stats) process.stdout.write(JSON.stringify({ stats: sim.stats }) + '\n');
      } catch {
        process.stderr.write('simulator: ignored a control line that is not JSON\n');
      }
    });
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.close();
  return 0;
}
