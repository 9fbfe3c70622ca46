import type { DirectAdminClient } from '../directadmin/index.js';

/** The read-only part of the client: everything enumeration and planning may call. */
export type DirectAdminReader = Pick<
  DirectAdminClient,
  'loginTest' | 'showUsers' | 'showAllUsers' | 'showResellers' | 'showAdmins' | 'verifyPassword'
>;

/** A lower-case letter, then lower-case letters and digits, at most 32 characters in all. */
const USERNAME = /^[a-z][a-z0-9]{0,31}$/;

export function isValidUsername(name: string): boolean {
  return USERNAME.test(name);
}

export interface SkippedAccount {
  username: string;
  reason: string;
}

export interface Selection {
  /** Accounts to rotate, sorted, unique. */
  selected: string[];
  /** Accounts seen but deliberately not touched, with why. */
  skipped: SkippedAccount[];
  /** Names asked for with --only that the server does not list. */
  missing: string[];
}

export interface SelectionCriteria {
  scope: 'users' | 'all';
  /** The login name, possibly "admin|fred": every account in it is skipped. */
  self: string;
  exclude: string[];
  only: string[] | undefined;
}

/** A glob with `*` and `?` only; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Lists accounts as the server reports them, before any filtering. */
export async function listAccounts(client: DirectAdminReader, scope: 'users' | 'all'): Promise<string[]> {
  if (scope === 'users') return client.showUsers();
  // Whether SHOW_ALL_USERS includes resellers and admins is undocumented: ask for each kind.
  const [all, resellers, admins] = await Promise.all([client.showAllUsers(), client.showResellers(), client.showAdmins()]);
  const owned = await Promise.all(resellers.map((r) => (isValidUsername(r) ? client.showUsers(r) : Promise.resolve([]))));
  return [...all, ...resellers, ...owned.flat(), ...admins];
}

export function selectAccounts(names: readonly string[], criteria: SelectionCriteria): Selection {
  const selfNames = new Set(criteria.self.split('|').filter(Boolean));
  const excludes = criteria.exclude.map(globToRegExp);
  const only = criteria.only ? new Set(criteria.only) : undefined;
  const seen = new Set<string>();
  const selected: string[] = [];
  const skipped: SkippedAccount[] = [];
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (only && !only.has(name)) continue;
    if (!isValidUsername(name)) {
      skipped.push({ username: name, reason: 'not a valid DirectAdmin username: never sent to the server' });
    } else if (selfNames.has(name)) {
      skipped.push({ username: name, reason: 'the account this run logs in as is never rotated' });
    } else if (excludes.some((re) => re.test(name))) {
      skipped.push({ username: name, reason: 'excluded by --exclude' });
    } else {
      selected.push(name);
    }
  }
  const missing = only ? [...only].filter((n) => !seen.has(n)) : [];
  selected.sort();
  skipped.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  return { selected, skipped, missing };
}

export async function enumerateAccounts(client: DirectAdminReader, criteria: SelectionCriteria): Promise<Selection> {
  return selectAccounts(await listAccounts(client, criteria.scope), criteria);
}
