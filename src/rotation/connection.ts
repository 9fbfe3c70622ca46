/** The connection a run works through: the client, the preflight, and the login-as contexts kinds use. */
import { DirectAdminClient, type RequestEvent } from '../directadmin/index.js';
import { describeError, RunAborted, UsageError } from '../errors.js';
import type { KindContext } from '../kinds/kind.js';
import type { Logger, SecretRegistry } from '../log.js';
import { msg } from '../messages.js';
import { withReadRetries, type ReadRetryOptions } from './retry.js';
import type { ConnectionSettings, WorkSettings } from './settings.js';

/** What the server's answers said about its health during a run: an admin wants to know. */
export interface ServerHealth {
  requests: number;
  /** Resends of writes and reads after a transport error or a 5xx. */
  retries: number;
  serverErrors: number;
  transportErrors: number;
  /** Logins the server refused (wrong credential, blacklisted IP): DirectAdmin blacklists after about 10. */
  failedLogins: number;
}

export function emptyHealth(): ServerHealth {
  return { requests: 0, retries: 0, serverErrors: 0, transportErrors: 0, failedLogins: 0 };
}

export interface ClientHooks {
  log?: Logger;
  health?: ServerHealth;
  /** Every request's latency and whether it looked like overload (adaptive concurrency). */
  onSample?: (e: RequestEvent) => void;
  /** Aborting it abandons every request in flight (a stop that waited long enough). */
  signal?: AbortSignal;
}

/** The client for a run; a connection it refuses to make (plain http to a remote host) is a usage error. */
export function makeClient(c: ConnectionSettings, concurrency: number, hooks: ClientHooks = {}): DirectAdminClient {
  const { log, health, onSample } = hooks;
  const trace = log?.isLevelEnabled('trace') === true;
  try {
    return new DirectAdminClient({
      onRequest:
        trace || health || onSample
          ? (e) => {
              if (health) {
                health.requests++;
                if (e.status >= 500) health.serverErrors++;
                if (e.error?.kind === 'transport') health.transportErrors++;
                if (e.error?.kind === 'authentication' || e.error?.kind === 'blacklisted') health.failedLogins++;
              }
              onSample?.(e);
              // Per-request trace: command, status and time only; the client never hands over a secret.
              if (trace) log.trace({ command: e.command, method: e.method, status: e.status, ms: Math.round(e.durationMs), err: e.error?.message }, 'request');
            }
          : undefined,
      baseUrl: c.baseUrl,
      username: c.username,
      secret: c.secret,
      tls: c.tls,
      allowHttp: c.allowHttp,
      timeoutMs: c.timeoutMs,
      connections: concurrency,
      format: c.format,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    });
  } catch (e) {
    throw new UsageError(describeError(e));
  }
}

/** CMD_API_LOGIN_TEST must say "Login OK" before anything else is asked; transport errors and 5xx are retried. */
export async function preflight(client: DirectAdminClient, retry: ReadRetryOptions, secrets: SecretRegistry): Promise<void> {
  try {
    await withReadRetries(() => client.loginTest(), retry);
  } catch (e) {
    throw new RunAborted(msg.loginTestFailed(secrets.scrub(describeError(e))), { cause: e });
  }
  // undici hands a keep-alive socket back one turn of the event loop after its answer: asked at
  // once, the next request would open a second connection (on a remote server, a TLS handshake).
  await new Promise((resolve) => setImmediate(resolve));
}

/** The kind context of a run: login-as clients made once per account, verification switched off when refused. */
export function kindContext(client: DirectAdminClient, work: Pick<WorkSettings, 'settle'>, log?: Logger): KindContext {
  const asOwner = new Map<string, DirectAdminClient>();
  const domains = new Map<string, Promise<string[]>>();
  let canVerify = work.settle === 'verify';
  return {
    client,
    as(owner) {
      let c = asOwner.get(owner);
      if (!c) {
        c = client.loginAs(owner);
        asOwner.set(owner, c);
      }
      return c;
    },
    // Sent once here; the listing (credentials.ts) wraps it with retries.
    read: (request) => request(),
    domains(owner) {
      let d = domains.get(owner);
      if (!d) {
        d = client.showUserDomains(owner);
        // A failed listing is asked again next time (retries wrap the kind's whole list()).
        d.catch(() => domains.delete(owner));
        domains.set(owner, d);
      }
      return d;
    },
    canVerifyAccounts: () => canVerify,
    verifyUnavailable() {
      if (canVerify) log?.warn(msg.verifyUnavailable);
      canVerify = false;
    },
  };
}

export function readRetryOptions(work: WorkSettings, signal: AbortSignal, health?: ServerHealth): ReadRetryOptions {
  return { retries: work.retries, retryDelayMs: work.retryDelayMs, signal, onRetry: health ? () => void health.retries++ : undefined };
}
