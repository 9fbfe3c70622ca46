/**
 * The smallest login-key allow-list for a given selection and set of kinds, in DirectAdmin's own
 * names: legacy commands (CMD_API_...) and, for the JSON API, feature names (`sessions`,
 * `db-show`, `db-manage`, `login-keys`; DirectAdmin restricts /api/ endpoints by feature, and
 * `GET /api/login-keys/commands` lists the names a server knows). Never an /api/ route.
 */
import { UsageError } from '../errors.js';
import { kindByName, type KindName } from '../kinds/index.js';

export interface KeyScope {
  /** Legacy commands the key must allow. */
  commands: string[];
  /** JSON API features the key must allow (`sessions`, `db-show`, `db-manage`, `login-keys`). */
  features: string[];
  /** Commands and features a key for this tool must never allow. */
  never: string[];
  /** Set when the kinds need what can edit keys (login-keys): a short-lived key made for the incident. */
  incidentOnly: boolean;
}

export interface KeyScopeOptions {
  scope: 'users' | 'all';
  include?: readonly string[];
  /** --count-all: scope users also counts the whole server with the admin listing commands. */
  countAll?: boolean;
  /** --accounts N: say how many key uses a run of N accounts needs. */
  accounts?: number;
  /** --expect NAME=N,...: what the server holds (domains, resellers, credentials of a kind), instead of assumed figures. */
  expect?: Map<string, number>;
}

/** A JSON API feature name (lower case, no CMD_ prefix), as opposed to a legacy command. */
export function isFeatureName(name: string): boolean {
  return !/^CMD_/.test(name);
}

/** What lets a key create or edit keys: never in an everyday key. */
const KEY_EDITING = ['ALL_USER', 'CMD_LOGIN_KEYS', 'CMD_API_LOGIN_KEYS', 'login-keys'];

export function keyScope(options: KeyScopeOptions): KeyScope {
  const include = (options.include ?? ['account']) as KindName[];
  const commands = ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS'];
  if (options.scope === 'all' || options.countAll) commands.push('CMD_API_SHOW_ALL_USERS', 'CMD_API_SHOW_RESELLERS', 'CMD_API_SHOW_ADMINS');
  const features: string[] = [];
  for (const k of include) {
    for (const c of kindByName(k).commands) {
      const list = isFeatureName(c) ? features : commands;
      if (!list.includes(c)) list.push(c);
    }
  }
  // Revoking keys needs CMD_API_LOGIN_KEYS and login-keys, which also create keys: an incident key only.
  const incidentOnly = include.includes('login-key');
  const never = KEY_EDITING.filter((c) => !commands.includes(c) && !features.includes(c));
  return { commands, features, never, incidentOnly };
}

function usesLines(options: KeyScopeOptions): string[] {
  const u = keyUses(options);
  const sweep = (options.include ?? ['account']).some((k) => k !== 'account');
  const assumed = u.assumed.filter((a) => a.assumed);
  const assumedLines = assumed.length
    ? [
        `     ASSUMED, not counted on any server: ${assumed.map((a) => `${a.count} ${a.what} (${a.rule})`).join(', ')};`,
        `     give the real figures: --expect ${assumed.map((a) => `${a.name}=N`).join(',')} (\`plan --include ...\` counts the credentials);`,
      ]
    : [];
  if (options.accounts === undefined) {
    return [
      `     every request uses one: ${u.formula} for an account-password run;`,
      "     `key-scope --accounts N` counts a run of N accounts (with --include, the sweep's reads and changes too).",
    ];
  }
  if (!sweep) {
    const resellers = options.scope === 'all' ? `, with ${u.resellers} reseller(s)` : '';
    return [
      `     every request uses one: a run of ${u.accounts} account(s) needs at least ${u.minimum} (${u.listing} to connect and list${resellers}, 1 per account);`,
      ...assumedLines,
      `     set "Max uses" to ${u.recommended} to leave room for retries and proofs of unknown outcomes.`,
    ];
  }
  return [
    `     every request uses one: a run of ${u.accounts} account(s) needs at least ${u.minimum}:`,
    `       ${u.connect} to connect and list the accounts${options.scope === 'all' ? ` (${u.resellers} reseller(s))` : ''}${u.domainLists ? `, ${u.domainLists} domain lists` : ''};`,
    ...u.kinds.map((k) => `       ${k.kind}: ${k.count} credential(s), ${k.reads} read(s) to list them, ${k.changes} change(s);`),
    ...(assumed.length ? assumedLines : ['     (every figure from --expect: nothing assumed);']),
    `     set "Max uses" to ${u.recommended} to leave room for retries and proofs of unknown outcomes`,
    `     (one more per change, a tenth more reads, and 10).`,
  ];
}

export function keyScopeInstructions(scope: KeyScope, options: KeyScopeOptions): string {
  const kinds = (options.include ?? ['account']).join(',');
  return [
    `Login key allow-list for da-rotate --scope ${options.scope}${options.countAll ? ' --count-all' : ''} --include ${kinds}:`,
    '',
    ...scope.commands.map((c) => `  ${c}`),
    ...(scope.features.length
      ? ['', 'and these JSON API features (DirectAdmin allows its JSON API by feature name):', ...scope.features.map((c) => `  ${c}`)]
      : []),
    '',
    'Create it in DirectAdmin as the admin (or reseller) that runs the rotation:',
    '  1. User Level -> Login Keys -> Create Key (Evolution: top-right menu -> Login Keys).',
    '  2. Key name: da-rotate. Leave "Key Value" to be generated; set an expiry and a "Max uses":',
    ...usesLines(options),
    '  3. Uncheck "Allow all commands" and allow exactly the names listed above.',
    '  4. "Allowed IPs": only the IP this tool runs from.',
    `  5. Never allow ${scope.never.join(', ')}: they let the key create or edit keys.`,
    ...(scope.incidentOnly
      ? [
          '',
          'WARNING: revoking login keys needs CMD_API_LOGIN_KEYS and login-keys, which also let a key create and edit keys.',
          'Put it only in a key made for this incident, with an expiry of an hour or two and a small max-uses,',
          'and delete that key yourself when the sweep is done. Never keep it in a scheduled job.',
        ]
      : []),
    '',
    '`da-rotate key-scope --check` (with the connection options) asks the server whether the key',
    'allows each of these before a run sends anything.',
    '',
    'Then give it to da-rotate without putting it in argv:',
    '  export DA_URL=https://HOST:2222  DA_LOGIN_KEY=<the key>   # plus --user NAME',
    'or, on the server, `da api-url` prints a ready DA_URL with a temporary admin key.',
    'A reseller run cannot use CMD_API_VERIFY_PASSWORD (admin only): it settles unknown outcomes by',
    'resending the same password (--settle resend), and DirectAdmin\'s "isn\'t different" proves it live.',
    ...(options.include?.includes('login-key') ? [] : ["Changing account passwords does not revoke those accounts' own login keys: add --include login-key."]),
    '',
  ].join('\n');
}

/** What key-scope assumes is there, or was told with --expect. */
export interface UsesFigure {
  /** `domains`, `resellers` or a kind name. */
  name: string;
  count: number;
  /** What is counted, in words ("domains", "email credentials"). */
  what: string;
  /** True when not given with --expect. */
  assumed: boolean;
  /** How an assumed figure was reached ("2 per account"), or "--expect". */
  rule: string;
}

export interface KindUses {
  kind: KindName;
  count: number;
  reads: number;
  changes: number;
}

export interface KeyUses {
  accounts: number;
  /** The login test and the account listing (with --scope all, one SHOW_USERS per reseller). */
  connect: number;
  resellers: number;
  /** One CMD_API_SHOW_USER_DOMAINS per account when a kind lists per domain. */
  domainLists: number;
  /** Every read: connect, domain lists and each kind's listing. */
  listing: number;
  changes: number;
  minimum: number;
  recommended: number;
  formula: string;
  kinds: KindUses[];
  assumed: UsesFigure[];
}

/** What --expect may name besides kinds. */
const EXPECT_EXTRA = ['domains', 'resellers'] as const;

/** `domains=60,email=300`: figures for key-scope --accounts. A usage error (one line) on anything else. */
export function parseExpect(text: string | undefined, include: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  if (text === undefined) return out;
  const known = [...EXPECT_EXTRA, ...include.filter((k) => k !== 'account')];
  for (const part of text.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*(\d{1,9})\s*$/.exec(part);
    if (!m || !known.includes(m[1]!)) {
      throw new UsageError(`--expect takes NAME=N pairs separated by commas, NAME one of ${known.join(', ')} (got "${part.trim()}")`);
    }
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * Login-key uses a run needs (every request uses one), counted from what each included kind
 * states it sends (its `requests`): the login test and the account listing; per account, the
 * domain list when a kind lists per domain; each kind's listing reads and one change per
 * credential. What a server holds (domains, mailboxes, keys...) is taken from --expect or assumed
 * from the kind's `typical` figure, and the answer says which. A run where nothing goes wrong sends
 * exactly `minimum`; retries and the proof of an unknown outcome (a proving read or a resend)
 * cost one more each, so `recommended` adds one per change, a tenth of the reads and 10. Checked
 * against the simulator's request count (test/e2e/scope-and-key-uses.test.ts).
 */
export function keyUses(options: KeyScopeOptions): KeyUses {
  const accounts = options.accounts ?? 0;
  const include = (options.include ?? ['account']) as KindName[];
  const expect = options.expect ?? new Map<string, number>();
  const assumed: UsesFigure[] = [];
  const figure = (name: string, what: string, rule: string, fallback: number): number => {
    const given = expect.get(name);
    const count = given ?? fallback;
    assumed.push({ name, count, what, assumed: given === undefined, rule: given === undefined ? rule : '--expect' });
    return count;
  };
  const kinds = include.map((k) => ({ kind: k, requests: kindByName(k).requests }));
  // --scope users: LOGIN_TEST + SHOW_USERS, + the three admin lists with --count-all. --scope all:
  // LOGIN_TEST + the three admin lists, then SHOW_USERS of each reseller.
  const resellers = options.scope === 'all' ? figure('resellers', 'resellers', 'one per 20 accounts', Math.ceil(accounts / 20)) : 0;
  const fixed = options.scope === 'all' ? 4 : 2 + (options.countAll ? 3 : 0);
  const connect = fixed + resellers;
  const perDomain = kinds.some((k) => k.requests.perDomain > 0);
  const domains = perDomain ? figure('domains', 'domains', '2 per account', accounts * 2) : 0;
  const domainLists = perDomain ? accounts : 0;
  const byKind: KindUses[] = kinds.map(({ kind, requests: r }) => {
    const base = r.typical.per === 'domain' ? domains : accounts;
    const count = kind === 'account' ? accounts : figure(kind, `${kind} credentials`, `${r.typical.count} per ${r.typical.per}`, r.typical.count * base);
    return { kind, count, reads: r.perAccount * accounts + r.perDomain * domains + r.perListed * count, changes: r.perChange * count };
  });
  const listing = connect + domainLists + byKind.reduce((n, k) => n + k.reads, 0);
  const changes = byKind.reduce((n, k) => n + k.changes, 0);
  const minimum = listing + changes;
  const recommended = minimum + changes + Math.ceil(listing / 10) + 10;
  const plus = options.scope === 'all' ? ' + resellers' : '';
  const formula = `${fixed}${plus} + accounts at least; ${fixed}${plus} + 2 x accounts + ${Math.ceil(fixed / 10) + 10} leaves room for retries and proofs`;
  return { accounts, connect, resellers, domainLists, listing, changes, minimum, recommended, formula, kinds: byKind, assumed };
}
