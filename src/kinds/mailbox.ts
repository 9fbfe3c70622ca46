/** Mailboxes of an account's domains (CMD_API_POP, as the owner). No API call proves a mailbox password: settled by resending. */
import type { Credential, CredentialKind } from './kind.js';
import { isUnchangedRefusal } from './account-password.js';
import { checkNames, refusedDomain } from './names.js';

export const mailbox: CredentialKind = {
  name: 'email',
  action: 'change',
  commands: ['CMD_API_SHOW_USER_DOMAINS', 'CMD_API_POP'],
  requests: { perAccount: 0, perDomain: 1, perListed: 0, perChange: 1, typical: { count: 5, per: 'domain' } },
  async list(ctx, owner) {
    const out: Credential[] = [];
    for (const domain of await ctx.domains(owner)) {
      const bad = refusedDomain('email', owner, domain);
      if (bad) {
        out.push(bad);
        continue;
      }
      for (const local of await ctx.read(() => ctx.as(owner).listMailboxes(domain))) {
        out.push({ kind: 'email', owner, name: `${local}@${domain}`, data: { domain, local } });
      }
    }
    return checkNames(out);
  },
  async apply(ctx, c, secret) {
    await ctx.as(c.owner).changeMailboxPassword(c.data!.domain!, c.data!.local!, secret!);
  },
  provesDone: isUnchangedRefusal,
  advice: () => 'phones and mail clients keep trying the old password: tell the owner to update them at once',
};
