/**
 * The smallest login-key allow-list for a given selection and set of kinds, in DirectAdmin's own
 * names: legacy commands (CMD_API_...) and, for the JSON API, feature names (`sessions`,
 * `db-show`, `db-manage`, `login-keys`; DirectAdmin restricts /api/ endpoints by feature, and
 * `GET /api/login-keys/commands` lists the names a server knows). Never an /api/ route.
 */
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
  if (options.accounts !== undefined && !sweep) {
    return [
      `     every request uses one: a run of ${u.accounts} account(s) needs at least ${u.minimum}${options.scope === 'all' ? ' plus one per reseller' : ''} (${u.listing} to connect and list, 1 per account);`,
      `     set "Max uses" to ${u.recommended} to leave room for retries and proofs of unknown outcomes.`,
    ];
  }
  return [
    `     every request uses one: ${u.formula} for an account-password run`,
    '     (key-scope --accounts N computes it); a sweep (--include) needs about 5 + accounts x 4 +',
    '     credentials x 2: run `plan --include ...` first, it counts them.',
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

/**
 * Login-key uses a run needs (every request uses one): the login test and the listing, then one
 * change per account. Retries and the proof of an unknown outcome (one VERIFY_PASSWORD, or a
 * resend) cost one more each, so the key's "Max uses" should leave room: `recommended` doubles the
 * per-account part. Checked against the simulator (test/e2e/operator.test.ts).
 */
export function keyUses(options: KeyScopeOptions): {
  accounts: number;
  listing: number;
  changes: number;
  minimum: number;
  recommended: number;
  formula: string;
} {
  const accounts = options.accounts ?? 0;
  // --scope users: LOGIN_TEST + SHOW_USERS, + the three admin lists with --count-all. --scope all:
  // LOGIN_TEST + the three admin lists, then SHOW_USERS of each reseller (one more per reseller;
  // resellers are among the accounts, so the doubled per-account part of `recommended` covers it).
  const listing = options.scope === 'all' ? 4 : 2 + (options.countAll ? 3 : 0);
  const changes = accounts;
  const minimum = listing + changes;
  const recommended = listing + 2 * changes + 10;
  const formula = `${listing}${options.scope === 'all' ? ' + resellers' : ''} + accounts at least; ${listing} + 2 x accounts + 10 leaves room for retries and proofs`;
  return { accounts, listing, changes, minimum, recommended, formula };
}
