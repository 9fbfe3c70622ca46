/** The account password (CMD_API_USER_PASSWD): panel, main FTP, SSH and main database login. */
import { CommandFailed, PermissionDenied, type DirectAdminError } from '../directadmin/index.js';
import type { CredentialKind } from './kind.js';

const NOT_ALLOWED = /you cannot execute that command/i;

export function isUnchangedRefusal(e: DirectAdminError): boolean {
  return e instanceof CommandFailed && /isn.?t different/i.test(`${e.text} ${e.details}`);
}

export const accountPassword: CredentialKind = {
  name: 'account',
  action: 'change',
  commands: ['CMD_API_USER_PASSWD', 'CMD_API_VERIFY_PASSWORD'],
  // One credential per account, listed without a request; one change.
  requests: { perAccount: 0, perDomain: 0, perListed: 0, perChange: 1, typical: { count: 1, per: 'account' } },
  // Both on the hot path, so neither is async: the list needs no request (one credential, the
  // account itself), and the change hands back the client's promise without another frame.
  list(_ctx, owner) {
    return [{ kind: 'account', owner, name: owner }];
  },
  apply(ctx, c, secret) {
    return ctx.client.changePassword(c.owner, secret!);
  },
  async check(ctx, c, secret) {
    if (!ctx.canVerifyAccounts()) return undefined;
    try {
      return await ctx.client.verifyPassword(c.owner, secret!);
    } catch (e) {
      // A reseller may not verify: from now on the run settles by resending (idempotent).
      if (e instanceof PermissionDenied || (e instanceof CommandFailed && NOT_ALLOWED.test(`${e.text} ${e.details}`))) {
        ctx.verifyUnavailable();
        return undefined;
      }
      throw e;
    }
  },
  // "New password isn't different" after a change that may have applied proves it is live.
  provesDone: isUnchangedRefusal,
};
