/**
 * `key-scope --check`: asks the server, before a run sends anything, whether the login (its login
 * key) may use each legacy command and JSON API feature the run needs. First the names the server
 * knows (`GET /api/login-keys/commands`, which needs no login), then one request that changes
 * nothing per name, one at a time. A login page (a failed login, toward DirectAdmin's blacklist)
 * stops the check at once: it costs at most one failed login.
 */
import { AuthenticationFailed, CommandFailed, isDirectAdminError, PermissionDenied } from '../directadmin/errors.js';
import type { DirectAdminClient } from '../directadmin/index.js';
import { describeError } from '../errors.js';
import type { KeyScope } from './key-scope.js';

export type KeyCheckStatus = 'allowed' | 'not-allowed' | 'unknown-to-server' | 'not-supported' | 'not-checked' | 'error';

export interface KeyCheckItem {
  name: string;
  status: KeyCheckStatus;
  /** Why, for anything but allowed. */
  note?: string;
}

export interface KeyCheckResult {
  /** The names the server says it knows, or undefined when it could not say (an old server). */
  known: string[] | undefined;
  items: KeyCheckItem[];
  /** Every name the run needs is allowed. */
  ok: boolean;
}

export async function checkKeyScope(client: DirectAdminClient, scope: KeyScope): Promise<KeyCheckResult> {
  let known: string[] | undefined;
  try {
    known = await client.loginKeyCommands();
  } catch (e) {
    if (isDirectAdminError(e) && e.fatal) throw e;
    known = undefined;
  }
  const knownSet = known ? new Set(known.map((n) => n.toLowerCase())) : undefined;
  const items: KeyCheckItem[] = [];
  let stopped: string | undefined;
  const names = [...scope.commands, ...scope.features];
  // The login test first: a wrong secret is one failed login, and nothing else is asked.
  await client.loginTest();
  for (const name of names) {
    if (stopped) {
      items.push({ name, status: 'not-checked', note: stopped });
      continue;
    }
    if (name === 'CMD_API_LOGIN_TEST') {
      items.push({ name, status: 'allowed' });
      continue;
    }
    // A name the server does not list is still asked (its list may be partial); refused, it is named as unknown to the server.
    const unlisted = knownSet !== undefined && !knownSet.has(name.toLowerCase());
    try {
      await client.dryRequest(name);
      items.push({ name, status: 'allowed' });
    } catch (e) {
      if (unlisted && !(e instanceof AuthenticationFailed) && !(isDirectAdminError(e) && e.fatal))
        items.push({
          name,
          status: 'unknown-to-server',
          note: 'GET /api/login-keys/commands does not list it and the server refused it: this server does not know the name',
        });
      else if (e instanceof PermissionDenied) items.push({ name, status: 'not-allowed', note: `add \`${name}\` to the key's allowed commands` });
      else if (e instanceof CommandFailed && e.apiType === 'NO_JSON_API')
        items.push({ name, status: 'not-supported', note: 'not supported by this server (no JSON API)' });
      else if (e instanceof AuthenticationFailed) {
        // DirectAdmin's login page for a command the key lacks: one failed login; nothing more is asked.
        items.push({
          name,
          status: 'not-allowed',
          note: `the server answered with its login page (one failed login counted): add \`${name}\` to the key's allowed commands`,
        });
        stopped = `not checked: the check stopped at ${name} to spare the brute-force counter`;
      } else if (isDirectAdminError(e) && e.fatal) throw e;
      else items.push({ name, status: 'error', note: describeError(e) });
    }
  }
  return { known, items, ok: items.every((i) => i.status === 'allowed') };
}

export function formatKeyCheck(r: KeyCheckResult, server: string): string {
  const words: Record<KeyCheckStatus, string> = {
    allowed: 'allowed',
    'not-allowed': 'NOT ALLOWED',
    'unknown-to-server': 'unknown to this server',
    'not-supported': 'not supported by this server',
    'not-checked': 'not checked',
    error: 'could not check',
  };
  const width = Math.max(...r.items.map((i) => i.name.length), 4);
  const lines = [`Login key check against ${server}${r.known ? '' : ' (the server did not list the names it knows)'}:`];
  for (const i of r.items) lines.push(`  ${i.name.padEnd(width)}  ${words[i.status]}${i.note && i.status !== 'allowed' ? `: ${i.note}` : ''}`);
  lines.push(r.ok ? 'Everything this run needs is allowed.' : 'The key lacks some of what this run needs: fix it before running (nothing was changed).');
  return lines.join('\n') + '\n';
}
