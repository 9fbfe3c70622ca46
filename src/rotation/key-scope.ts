/** The smallest login-key allow-list for a given selection, and how to create such a key. */

export interface KeyScope {
  commands: string[];
  /** Commands a key for this tool must never allow. */
  never: string[];
}

export function keyScope(options: { scope: 'users' | 'all' }): KeyScope {
  const commands = ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS'];
  if (options.scope === 'all') commands.push('CMD_API_SHOW_ALL_USERS', 'CMD_API_SHOW_RESELLERS', 'CMD_API_SHOW_ADMINS');
  commands.push('CMD_API_USER_PASSWD', 'CMD_API_VERIFY_PASSWORD');
  return { commands, never: ['ALL_USER', 'CMD_LOGIN_KEYS', 'CMD_API_LOGIN_KEYS'] };
}

export function keyScopeInstructions(scope: KeyScope, options: { scope: 'users' | 'all' }): string {
  return [
    `Login key allow-list for da-rotate --scope ${options.scope}:`,
    '',
    ...scope.commands.map((c) => `  ${c}`),
    '',
    'Create it in DirectAdmin as the admin (or reseller) that runs the rotation:',
    '  1. User Level -> Login Keys -> Create Key (Evolution: top-right menu -> Login Keys).',
    '  2. Key name: da-rotate. Leave "Key Value" to be generated; set an expiry and, for one-off',
    '     incident runs, a small "Max uses" (each request uses one).',
    '  3. Uncheck "Allow all commands" and allow exactly the commands listed above.',
    '  4. "Allowed IPs": only the IP this tool runs from.',
    `  5. Never allow ${scope.never.join(', ')}: they let the key create or edit keys.`,
    '',
    'Then give it to da-rotate without putting it in argv:',
    '  export DA_URL=https://HOST:2222  DA_LOGIN_KEY=<the key>   # plus --user NAME',
    'or, on the server, `da api-url` prints a ready DA_URL with a temporary admin key.',
    'Changing account passwords does not revoke those accounts\' own login keys: review them after an incident.',
    '',
  ].join('\n');
}
