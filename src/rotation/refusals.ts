/**
 * Refusals that do not depend on the credential: a password policy, a command the login may not
 * use, a server-wide error. One of them will hit every credential of its kind, so the run stops
 * after the first or second instead of sending the rest, and names the fix.
 */
import { CommandFailed, type DirectAdminError } from '../directadmin/errors.js';

export interface SystematicRefusal {
  /** Groups equal refusals: the same policy or permission problem. */
  key: string;
  /** One line for the operator: what to change before `resume`. */
  fix: string;
}

const POLICY: Array<[RegExp, string, string]> = [
  [
    /difficult password|special character|upper and lower case|must have numbers/i,
    'policy:difficult',
    'the server enforces difficult passwords: resume with --symbols (and --length 16 or more)',
  ],
  [/too short/i, 'policy:short', 'the server wants longer passwords: resume with a larger --length'],
  [/too long/i, 'policy:long', 'the server wants shorter passwords: resume with a smaller --length'],
  [/invalid characters/i, 'policy:chars', 'the server refuses these characters: resume without --symbols'],
  [/you cannot execute that command/i, 'permission', 'this login may not use that command: run `da-rotate key-scope` and create a key that allows it'],
];

export function systematicRefusal(e: DirectAdminError): SystematicRefusal | undefined {
  if (!(e instanceof CommandFailed)) return undefined;
  const apiType = (e as CommandFailed & { apiType?: string }).apiType;
  if (apiType === 'WEAK_PASSWORD')
    return { key: 'policy:weak', fix: 'the server refuses the new password as weak: resume with --symbols and a larger --length' };
  if (apiType === 'ACCESS_DENIED')
    return { key: 'permission', fix: 'this login may not use that command: run `da-rotate key-scope` and create a key that allows it' };
  const text = `${e.text} ${e.details}`;
  for (const [re, key, fix] of POLICY) if (re.test(text)) return { key: `${e.command}|${key}`, fix };
  return undefined;
}
