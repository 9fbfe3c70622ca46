/** Lists every credential of the selected kinds of the selected accounts, in sweep order. */
import { CommandFailed, isDirectAdminError, PermissionDenied } from '../directadmin/errors.js';
import { describeError } from '../errors.js';
import { KIND_ORDER, kindByName, type Credential, type KindContext, type KindName } from '../kinds/index.js';
import type { SecretRegistry } from '../log.js';
import { withReadRetries, type ReadRetryOptions } from './retry.js';

export interface ListingFailure {
  owner: string;
  kind: KindName;
  error: string;
  /** The one credential concerned (a name that may not be sent, kinds/names.ts, or of no known shape); else the whole kind of the account. */
  name?: string;
  /** 'skipped': the server cannot do it at all (no JSON API); default 'failed'. */
  status?: 'failed' | 'skipped';
}

/** A kind the run stopped for the whole server at its first refusal: no other request of it is sent. */
export interface StoppedKind {
  kind: KindName;
  /** 'permission': the login key does not allow it (names the line to add); 'unsupported': the server has no such API. */
  reason: 'permission' | 'unsupported';
  /** The allow-list entry to add (permission). */
  missing?: string;
  message: string;
  /** Accounts whose credentials of this kind were not listed (or not changed). */
  accounts: number;
}

export interface CredentialList {
  /** In sweep order: per kind (KIND_ORDER), then owner, then name. */
  credentials: Credential[];
  /** Accounts whose credentials of a kind could not be listed: reported, never silently left out. */
  failures: ListingFailure[];
  /** A fatal error (authentication, blacklist, TLS): the server is stopped. */
  fatal?: unknown;
  /** Kinds stopped at their first refusal (permission) or found unsupported (no JSON API). */
  stopped: StoppedKind[];
}

/** Whether an error stops its kind for the whole server: a permission refusal, or no JSON API. */
export function kindStop(kind: KindName, e: unknown): Omit<StoppedKind, 'accounts'> | undefined {
  if (e instanceof PermissionDenied) return { kind, reason: 'permission', missing: e.missing, message: e.message };
  if (e instanceof CommandFailed && e.apiType === 'NO_JSON_API') return { kind, reason: 'unsupported', message: e.message };
  const last = (e as { last?: unknown } | undefined)?.last;
  return last === undefined ? undefined : kindStop(kind, last);
}

/** The kind context for listing: every read a kind sends (ctx.read) and every owner's domains retried per request. */
function listingContext(kctx: KindContext, retry: ReadRetryOptions): KindContext {
  return {
    ...kctx,
    read: (request) => withReadRetries(request, retry),
    domains: (owner) => withReadRetries(() => kctx.domains(owner), retry),
  };
}

export async function listCredentials(
  kctx: KindContext,
  accounts: readonly string[],
  include: readonly KindName[],
  o: { concurrency: number; retry: ReadRetryOptions; secrets: SecretRegistry; onListed?: (credentials: number, fraction: number) => void },
): Promise<CredentialList> {
  const failures: ListingFailure[] = [];
  const lctx: KindContext = {
    ...listingContext(kctx, o.retry),
    unrecognised: (owner, kind, name, why) => failures.push({ owner, kind, name, error: why }),
  };
  const kinds = KIND_ORDER.filter((k) => include.includes(k)).map(kindByName);
  const found: Credential[][] = [];
  const stopped = new Map<KindName, StoppedKind>();
  let fatal: unknown;
  // A few loops pull the next (kind, account) pair: no promise or closure waits per account, so a
  // plan of 100 000 accounts holds the list, not 100 000 queued jobs.
  const total = kinds.length * accounts.length;
  let next = 0;
  let credentialsSoFar = 0;
  let pairsDone = 0;
  const lane = async (): Promise<void> => {
    while (next < total && fatal === undefined && !o.retry.signal.aborted) {
      const index = next++;
      const kind = kinds[Math.floor(index / accounts.length)]!;
      const owner = accounts[index % accounts.length]!;
      const stop = stopped.get(kind.name);
      if (stop) {
        // Stopped at its first refusal: not asked again, counted and reported per account.
        stop.accounts++;
        failures.push({ owner, kind: kind.name, error: stop.message, status: stop.reason === 'unsupported' ? 'skipped' : 'failed' });
        continue;
      }
      try {
        const listed = kind.list(lctx, owner);
        const list = (found[index] = Array.isArray(listed) ? listed : await listed);
        credentialsSoFar += list.length;
      } catch (e) {
        const halt = kindStop(kind.name, e);
        if (isDirectAdminError(e) && e.fatal) fatal ??= e;
        else if (halt) {
          const s = stopped.get(kind.name) ?? { ...halt, message: o.secrets.scrub(halt.message), accounts: 0 };
          stopped.set(kind.name, s);
          s.accounts++;
          failures.push({ owner, kind: kind.name, error: s.message, status: s.reason === 'unsupported' ? 'skipped' : 'failed' });
        } else failures.push({ owner, kind: kind.name, error: o.secrets.scrub(describeError(e)) });
      }
      o.onListed?.(credentialsSoFar, ++pairsDone / total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, total)) }, lane));
  // Sweep order falls out of the index: kinds in KIND_ORDER, accounts sorted, each list sorted.
  const credentials: Credential[] = [];
  for (const list of found) {
    if (!list) continue;
    // One credential (an account's own password) needs no copy and no sort: thousands of arrays fewer.
    if (list.length === 1 && !list[0]!.refused) credentials.push(list[0]!);
    else
      for (const c of list.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (c.refused) failures.push({ owner: c.owner, kind: c.kind, name: c.name, error: c.refused });
        else credentials.push(c);
      }
  }
  failures.sort((a, b) =>
    a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : (a.name ?? '') < (b.name ?? '') ? -1 : 1,
  );
  return { credentials, failures, fatal, stopped: [...stopped.values()] };
}
