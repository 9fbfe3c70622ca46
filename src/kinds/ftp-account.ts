/**
 * Extra FTP accounts of an account's domains (CMD_API_FTP, as the owner). The account's main FTP
 * login follows the account password and is not listed; the server's FTP separator (`@` by
 * default, configurable) is read from the names it lists. A change sends the account's type and path
 * back exactly as read: DirectAdmin would otherwise move its home.
 */
import type { Credential, CredentialKind } from './kind.js';
import { isUnchangedRefusal } from './account-password.js';
import { checkNames, nameProblem, refusedDomain } from './names.js';

export const ftpAccount: CredentialKind = {
  name: 'ftp',
  action: 'change',
  commands: ['CMD_API_SHOW_USER_DOMAINS', 'CMD_API_FTP', 'CMD_API_FTP_SHOW'],
  // A list per domain, then each account's details (its type and path), then one change each.
  requests: { perAccount: 0, perDomain: 1, perListed: 1, perChange: 1, typical: { count: 1, per: 'domain' } },
  async list(ctx, owner) {
    const out: Credential[] = [];
    const as = ctx.as(owner);
    for (const domain of await ctx.domains(owner)) {
      const bad = refusedDomain('ftp', owner, domain);
      if (bad) {
        out.push(bad);
        continue;
      }
      const listing = await ctx.read(() => as.listFtpAccounts(domain));
      for (const name of listing.unrecognised) {
        ctx.unrecognised?.(
          owner,
          'ftp',
          name,
          `an FTP account name of no known shape on ${domain} (neither name<separator>${domain} nor the account's own login): not changed`,
        );
      }
      for (const a of listing.accounts) {
        const refused = nameProblem('local', a.user);
        if (refused) {
          out.push({ kind: 'ftp', owner, name: a.fullUser || a.user, refused });
          continue;
        }
        const d = await ctx.read(() => as.showFtpAccount(domain, a.user));
        out.push({
          kind: 'ftp',
          owner,
          name: d.fullUser || a.fullUser,
          details: `type ${d.type}, home ${d.path}`,
          data: { domain, user: d.user || a.user, type: d.type, path: d.path },
        });
      }
    }
    return checkNames(out);
  },
  async apply(ctx, c, secret) {
    const d = c.data!;
    await ctx.as(c.owner).changeFtpPassword(d.domain!, { user: d.user!, type: d.type!, path: d.path! }, secret!);
  },
  provesDone: isUnchangedRefusal,
};
