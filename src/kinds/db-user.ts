/**
 * Extra database users (JSON API, as the owner). Opt-in only, never part of `--include all`: the
 * site that uses one (wp-config.php and the like) breaks until its config gets the new password.
 */
import type { Credential, CredentialKind } from './kind.js';
import { checkNames } from './names.js';

export const dbUser: CredentialKind = {
  name: 'db-user',
  action: 'change',
  optIn: true,
  commands: ['db-show', 'db-manage'],
  requests: { perAccount: 1, perDomain: 0, perListed: 0, perChange: 1, typical: { count: 2, per: 'account' } },
  secretRules: { minLength: 8, maxLength: 128 },
  async list(ctx, owner) {
    const users = await ctx.read(() => ctx.as(owner).listDbUsers());
    const listed = users.map((u): Credential => ({
      kind: 'db-user',
      owner,
      name: u.dbUser,
      details: u.hostPatterns.length ? `hosts ${u.hostPatterns.join(' ')}` : undefined,
    }));
    return checkNames(listed);
  },
  async apply(ctx, c, secret) {
    await ctx.as(c.owner).changeDbUserPassword(c.name, secret!);
  },
  // The JSON API has no "unchanged" refusal on record: an unknown outcome is settled by resending.
  provesDone: () => false,
  advice: (c) => `the site using database user ${c.name} stops working until its config (e.g. wp-config.php) has the new password`,
};
