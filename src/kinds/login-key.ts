/**
 * Login keys of an account: each one an extra password valid on it, untouched by a password change.
 * Revoked (deleted), never read: DirectAdmin never shows a key's value again after creation. The
 * JSON API is used where the server has it; an old server falls back to CMD_API_LOGIN_KEYS.
 */
import { CommandFailed, type DirectAdminClient, type LoginKeyInfo } from '../directadmin/index.js';
import type { Credential, CredentialKind } from './kind.js';
import { checkNames } from './names.js';

async function listKeys(as: DirectAdminClient): Promise<LoginKeyInfo[]> {
  try {
    return await as.listLoginKeysJson();
  } catch (e) {
    if (e instanceof CommandFailed && e.apiType === 'NO_JSON_API') return as.listLoginKeysLegacy();
    throw e;
  }
}

function describeKey(k: LoginKeyInfo): string {
  const parts = [
    k.created && `created ${k.created}`,
    k.createdBy && `by ${k.createdBy}`,
    `expires ${k.expires ?? 'never'}`,
    `last used ${k.lastUsed ?? 'never'}${k.lastIp ? ` from ${k.lastIp}` : ''}`,
    k.allowCommands && k.allowCommands.length > 0 ? `allows ${k.allowCommands.join(' ')}` : 'allows all commands',
    k.allowNetworks && k.allowNetworks.length > 0 && `from ${k.allowNetworks.join(' ')}`,
    k.readOnly && 'read-only',
  ];
  return parts.filter(Boolean).join(', ');
}

export const loginKey: CredentialKind = {
  name: 'login-key',
  action: 'revoke',
  commands: ['CMD_API_LOGIN_KEYS', 'login-keys'],
  // One list (an old server costs one more request per run: the JSON API's 404 before the legacy list), one deletion per key.
  requests: { perAccount: 1, perDomain: 0, perListed: 0, perChange: 1, typical: { count: 2, per: 'account' } },
  async list(ctx, owner) {
    const keys = await ctx.read(() => listKeys(ctx.as(owner)));
    return checkNames(keys.map((k): Credential => ({ kind: 'login-key', owner, name: k.id, details: describeKey(k), data: { api: k.api } })));
  },
  async apply(ctx, c) {
    const as = ctx.as(c.owner);
    if (c.data?.api === 'legacy') await as.deleteLoginKeysLegacy([c.name]);
    else await as.deleteLoginKeyJson(c.name);
  },
  /** Gone from the list: revoked, whoever did it. */
  async check(ctx, c) {
    const keys = await listKeys(ctx.as(c.owner));
    return !keys.some((k) => k.id === c.name);
  },
  provesDone: (e) => e instanceof CommandFailed && e.apiType === 'NOT_FOUND',
};
