/**
 * What notify needs from DirectAdmin, as a small interface (tests use a stub), and the adapter that
 * builds it from the DirectAdminClient.
 */
import { DirectAdminClient, isDirectAdminError } from '../directadmin/index.js';
import { UsageError } from '../errors.js';

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

/** A login-as context able to create a one-time login URL (the client engineer adds it to the client). */
interface LoginUrlCreator {
  createLoginUrl(options: { expiresInMinutes: number }): Promise<string>;
}
interface LoginAsCapable {
  loginAs?(user: string): LoginUrlCreator | undefined;
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
    loginLinks: typeof (client as unknown as LoginAsCapable).loginAs === 'function',
    userConfig: (user) => client.showUserConfig(user),
    createLoginLink: async (user) => {
      // SEAM (lead wires it): `client.loginAs(user).createLoginUrl(...)` comes from the client branch
      // (one_time_url login key via /api/login-keys/urls, as `admin|user`). Until it is merged this
      // refuses clearly instead of sending a message without a link.
      const loginAs = (client as unknown as LoginAsCapable).loginAs;
      const ctx = typeof loginAs === 'function' ? loginAs.call(client, user) : undefined;
      if (!ctx || typeof ctx.createLoginUrl !== 'function') {
        throw new UsageError('--deliver login-link needs one-time login URLs from the DirectAdmin client, which this build does not have yet: use --deliver password');
      }
      const url = await ctx.createLoginUrl({ expiresInMinutes: LOGIN_LINK_MINUTES });
      if (!/^https?:\/\/\S+$/.test(url)) throw new Error(`the server answered a login link that is not a URL for ${user}`);
      return url;
    },
    close: () => client.close(),
  };
}
