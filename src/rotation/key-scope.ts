/** The smallest login-key allow-list for a given selection and set of kinds, and how to create such a key. */
import { kindByName, type KindName } from '../kinds/index.js';

export interface KeyScope {
  commands: string[];
  /** JSON API paths the kinds use (a key's allow-list names commands; these need a key that allows the JSON API). */
  jsonApi: string[];
  /** Commands a key for this tool must never allow. */
  never: string[];
  /** Set when the kinds need a command that can edit keys: a short-lived key made for the incident. */
  incidentOnly: boolean;
}

export interface KeyScopeOptions {
  scope: 'users' | 'all';
  include?: readonly string[];
}

export function keyScope(options: KeyScopeOptions): KeyScope {
  const include = (options.include ?? ['account']) as KindName[];
  const commands = ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS'];
  if (options.scope === 'all') commands.push('CMD_API_SHOW_ALL_USERS', 'CMD_API_SHOW_RESELLERS', 'CMD_API_SHOW_ADMINS');
  const jsonApi: string[] = [];
  for (const k of include) {
    for (const c of kindByName(k).commands) {
      const list = c.startsWith('/') ? jsonApi : commands;
      if (!list.includes(c)) list.push(c);
    }
  }
  const incidentOnly = include.includes('login-key');
  const never = ['ALL_USER', 'CMD_LOGIN_KEYS', ...(incidentOnly ? [] : ['CMD_API_LOGIN_KEYS'])];
  return { commands, jsonApi, never, incidentOnly };
}

export function keyScopeInstructions(scope: KeyScope, options: KeyScopeOptions): string {
  const kinds = (options.include ?? ['account']).join(',');
  return [
    `Login key allow-list for da-rotate --scope ${options.scope} --include ${kinds}:`,
    '',
    ...scope.commands.map((c) => `  ${c}`),
    ...(scope.jsonApi.length ? ['', 'and the JSON API paths (the key must not be restricted to legacy commands):', ...scope.jsonApi.map((c) => `  ${c}`)] : []),
    '',
    'Create it in DirectAdmin as the admin (or reseller) that runs the rotation:',
    '  1. User Level -> Login Keys -> Create Key (Evolution: top-right menu -> Login Keys).',
    '  2. Key name: da-rotate. Leave "Key Value" to be generated; set an expiry and a "Max uses":',
    '     every request uses one: about 2 + (accounts x 2) for an account-password run, about',
    '     5 + (accounts x 4) + credentials for a sweep, plus retries (plan first: it counts them).',
    '  3. Uncheck "Allow all commands" and allow exactly the commands listed above.',
    '  4. "Allowed IPs": only the IP this tool runs from.',
    `  5. Never allow ${scope.never.join(', ')}: they let the key create or edit keys.`,
    ...(scope.incidentOnly
      ? [
          '',
          'WARNING: revoking login keys needs CMD_API_LOGIN_KEYS, which also lets a key create and edit keys.',
          'Put it only in a key made for this incident, with an expiry of an hour or two and a small max-uses,',
          'and delete that key yourself when the sweep is done. Never keep it in a scheduled job.',
        ]
      : []),
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
