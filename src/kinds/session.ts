/** Open panel sessions of an account (JSON API, as the owner): ended, each listed with its IP and start. */
import { CommandFailed } from '../directadmin/index.js';
import type { Credential, CredentialKind } from './kind.js';
import { checkNames } from './names.js';

export const panelSession: CredentialKind = {
  name: 'session',
  action: 'revoke',
  commands: ['sessions'],
  requests: { perAccount: 1, perDomain: 0, perListed: 0, perChange: 1, typical: { count: 2, per: 'account' } },
  async list(ctx, owner) {
    const sessions = await ctx.read(() => ctx.as(owner).listSessions());
    // The session this run's own request opened (if the server makes one) is not the intruder's.
    const listed = sessions
      .filter((s) => !s.current)
      .map((s): Credential => ({
        kind: 'session',
        owner,
        name: s.id,
        details: [
          `from ${s.ip || 'unknown IP'}`,
          `started ${s.created || 'unknown'}`,
          s.loggedInAs && `as ${s.loggedInAs}`,
          s.loginKey && `with key ${s.loginKey}`,
        ]
          .filter(Boolean)
          .join(', '),
      }));
    return checkNames(listed);
  },
  async apply(ctx, c) {
    await ctx.as(c.owner).destroySession(c.name);
  },
  async check(ctx, c) {
    const sessions = await ctx.as(c.owner).listSessions();
    return !sessions.some((s) => s.id === c.name);
  },
  provesDone: (e) => e instanceof CommandFailed && e.apiType === 'NOT_FOUND',
};
