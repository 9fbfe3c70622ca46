/**
 * What notify needs from DirectAdmin, as a small interface (tests use a stub), and the adapter that
 * builds it from the DirectAdminClient.
 */
import { DirectAdminClient, isDirectAdminError } from '../directadmin/index.js';

export interface NotifyServer {
  /** scheme://host:port, compared with the report's `server` column. */
  readonly origin: string;
  /** Whether createLoginLink can work at all (checked before anything is sent). */
  readonly loginLinks: boolean;
  /** CMD_API_SHOW_USER_CONFIG: `email`, `suspended` (yes/no), ... */
  userConfig(user: string): Promise<Record<string, string>>;
  /** A one-time login URL for `user` (single use, short expiry), created through login-as. */
  createLoginLink(user: string): Promise<string>;
  close(): Promise<void>;
}

/** Minutes a one-time login link stays valid. */
export const LOGIN_LINK_MINUTES = 60 * 24;

/** True when a DirectAdmin error must stop notify at once (authentication, blacklist, TLS, login page). */
export function isFatalServerError(e: unknown): boolean {
  return isDirectAdminError(e) && e.fatal;
}

export function notifyServerFromClient(client: DirectAdminClient): NotifyServer {
  return {
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
