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

/**
 * A login link that could not be proved to open the customer's own login: nothing is sent with it.
 * No source says whether a URL made through login-as (`admin|user`) opens the user's login or the
 * admin's, and one third-party report found links that logged in the key's owner.
 */
export class LoginLinkUnproven extends Error {
  readonly code = 'LOGIN_LINK_UNPROVEN';
  constructor(
    readonly account: string,
    readonly reason: string,
  ) {
    super(`the login link made for ${account} could not be proved to open ${account}'s own login (${reason}); no link was sent`);
    this.name = 'LoginLinkUnproven';
  }
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
      // A one-time login URL created as `admin|user`, then proved to be the user's: listed among
      // the user's own URLs (GET as `admin|user`) and not among the admin's. Otherwise it is deleted
      // again and nothing is sent.
      const as = client.loginAs(user);
      const link = await as.createLoginUrl({ expires: new Date(Date.now() + LOGIN_LINK_MINUTES * 60_000) });
      const url = link.url;
      if (!/^https?:\/\/\S+$/.test(url)) throw new Error(`the server answered a login link that is not a URL for ${user}`);
      if (!link.id) throw new LoginLinkUnproven(user, 'the server gave the link no id to check it by');
      const own = await client.listLoginUrls();
      if (own.some((u) => u.id === link.id)) {
        await client.deleteLoginUrl(link.id).catch(() => undefined);
        throw new LoginLinkUnproven(
          user,
          `the server lists it under ${client.username}'s own login: it would log the customer in as ${client.username}; it was deleted`,
        );
      }
      const theirs = await as.listLoginUrls();
      if (!theirs.some((u) => u.id === link.id)) throw new LoginLinkUnproven(user, `it is not among ${user}'s own login links`);
      return url;
    },
    close: () => client.close(),
  };
}
