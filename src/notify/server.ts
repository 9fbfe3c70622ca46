/**
 * What notify needs from DirectAdmin, as a small interface (tests use a stub), and the adapter that
 * builds it from the DirectAdminClient.
 */
import { DirectAdminClient, isDirectAdminError } from '../directadmin/index.js';
import { kindByName, type KindContext, type KindName } from '../kinds/index.js';
import { kindContext } from '../rotation/connection.js';

export interface NotifyServer {
  /** scheme://host:port, compared with the report's `server` column. */
  readonly origin: string;
  /** Whether createLoginLink can work at all (checked before anything is sent). */
  readonly loginLinks: boolean;
  /** CMD_API_SHOW_USER_CONFIG: `email`, `suspended` (yes/no), ... */
  userConfig(user: string): Promise<Record<string, string>>;
  /** A one-time login URL for `user` (single use, short expiry), created through login-as. */
  createLoginLink(user: string): Promise<string>;
  /**
   * Whether `credential` of `owner` still has the report's password, through the kind's proving
   * read: true, false, or undefined when no read can prove it. Absent: not checked.
   */
  isLive?(owner: string, credential: { kind: KindName; credential: string; password: string }): Promise<boolean | undefined>;
  close(): Promise<void>;
}

/** Minutes a one-time login link stays valid. */
export const LOGIN_LINK_MINUTES = 60 * 24;

/** True when a DirectAdmin error must stop notify at once (authentication, blacklist, TLS, login page). */
export function isFatalServerError(e: unknown): boolean {
  return isDirectAdminError(e) && e.fatal;
}

export function notifyServerFromClient(client: DirectAdminClient): NotifyServer {
  let kctx: KindContext | undefined;
  return {
    isLive: async (owner, c) => {
      const check = kindByName(c.kind).check;
      if (!check) return undefined;
      kctx ??= kindContext(client, { settle: 'verify' });
      return check(kctx, { kind: c.kind, owner, name: c.credential }, c.password);
    },
    origin: client.origin,
    loginLinks: true,
    userConfig: (user) => client.showUserConfig(user),
    createLoginLink: async (user) => {
      // A one-time login URL created as `admin|user`, so the link logs that user in, once.
      const link = await client.loginAs(user).createLoginUrl({ expires: new Date(Date.now() + LOGIN_LINK_MINUTES * 60_000) });
      const url = link.url;
      if (!/^https?:\/\/\S+$/.test(url)) throw new Error(`the server answered a login link that is not a URL for ${user}`);
      return url;
    },
    close: () => client.close(),
  };
}
