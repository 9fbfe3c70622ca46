import type { DirectAdminClient } from '../directadmin/index.js';

/** The read-only part of the client: everything enumeration and planning may call. */
export type DirectAdminReader = Pick<DirectAdminClient, 'loginTest' | 'showUsers' | 'showAllUsers' | 'showResellers' | 'showAdmins' | 'verifyPassword'>;

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
  /** What the scope covers of the server, and what it leaves out (set by enumerateAccounts). */
  coverage?: Coverage;
  /** For each missing name the server does have: whose it is and which scope reaches it. */
  missingWhere?: MissingAccount[];
  /** Each listed account's type, when the server was counted. */
  types?: Map<string, AccountType>;
}

export type AccountType = 'user' | 'reseller' | 'admin';
export type TypeCounts = Record<AccountType, number>;

/**
 * How much of the server a scope covers. `--scope users` lists only the caller's own users; the
 * rest of the server (users of resellers, resellers, admins) is counted only when the caller asked
 * for it (`--count-all`) or the scope lists it anyway (`--scope all`): asking a login key for a
 * command it does not allow gets the login page, a failed login toward DirectAdmin's brute-force
 * blacklist, so the tool never asks on its own.
 */
export interface Coverage {
  scope: 'users' | 'all';
  /** Accounts the scope lists (before --only, --exclude and the login's own account). */
  listed: number;
  /** Whether the whole server was counted. */
  counted: boolean;
  /** Accounts of each type on the server (when counted). */
  server?: TypeCounts;
  /** Accounts of each type the scope does not list (when counted). */
  leftOut?: TypeCounts;
}

export interface MissingAccount {
  username: string;
  type: AccountType;
  /** The reseller that owns a user, when known. */
  owner?: string;
  /** The --scope that reaches it. */
  scope: 'all';
}

export interface SelectionCriteria {
  scope: 'users' | 'all';
  /** The login name, possibly "admin|fred": every account in it is skipped. */
  self: string;
  /** --count-all: with scope users, also count the whole server (admin commands: see Coverage). */
  countAll?: boolean;
  exclude: string[];
  only: string[] | undefined;
}

/** A glob with `*` and `?` only; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
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

/** Every account on the server by type: SHOW_ALL_USERS, SHOW_RESELLERS and SHOW_ADMINS (admin only). */
export interface Census {
  types: Map<string, AccountType>;
  resellers: string[];
}

export async function takeCensus(client: DirectAdminReader): Promise<Census> {
  const [all, resellers, admins] = await Promise.all([client.showAllUsers(), client.showResellers(), client.showAdmins()]);
  // Whether SHOW_ALL_USERS includes resellers and admins is undocumented: the typed lists win.
  const types = new Map<string, AccountType>();
  for (const n of all) types.set(n, 'user');
  for (const n of resellers) types.set(n, 'reseller');
  for (const n of admins) types.set(n, 'admin');
  return { types, resellers };
}

function countTypes(names: Iterable<string>, types: Map<string, AccountType>): TypeCounts {
  const out: TypeCounts = { user: 0, reseller: 0, admin: 0 };
  for (const n of names) out[types.get(n) ?? 'user']++;
  return out;
}

/** The reseller that owns `user`, asking each reseller's list in turn (only for a refused --only name). */
async function ownerOf(client: DirectAdminReader, user: string, resellers: readonly string[]): Promise<string | undefined> {
  for (const r of resellers) {
    if (!isValidUsername(r)) continue;
    if ((await client.showUsers(r)).includes(user)) return r;
  }
  return undefined;
}

export async function enumerateAccounts(client: DirectAdminReader, criteria: SelectionCriteria): Promise<Selection> {
  if (criteria.scope === 'all') {
    const census = await takeCensus(client);
    const owned = await Promise.all(census.resellers.map((r) => (isValidUsername(r) ? client.showUsers(r) : Promise.resolve([]))));
    const names = [...census.types.keys(), ...owned.flat()];
    for (const n of owned.flat()) if (!census.types.has(n)) census.types.set(n, 'user');
    const selection = selectAccounts(names, criteria);
    const server = countTypes(census.types.keys(), census.types);
    return {
      ...selection,
      types: census.types,
      coverage: { scope: 'all', listed: census.types.size, counted: true, server, leftOut: { user: 0, reseller: 0, admin: 0 } },
    };
  }
  const own = await client.showUsers();
  const selection = selectAccounts(own, criteria);
  if (!criteria.countAll) return { ...selection, coverage: { scope: 'users', listed: new Set(own).size, counted: false } };
  const census = await takeCensus(client);
  const ownSet = new Set(own);
  const server = countTypes(census.types.keys(), census.types);
  const leftOut = countTypes(
    [...census.types.keys()].filter((n) => !ownSet.has(n)),
    census.types,
  );
  const missingWhere: MissingAccount[] = [];
  for (const name of selection.missing) {
    const type = census.types.get(name);
    if (!type) continue;
    const owner = type === 'user' ? await ownerOf(client, name, census.resellers) : undefined;
    missingWhere.push({ username: name, type, ...(owner ? { owner } : {}), scope: 'all' });
  }
  return { ...selection, types: census.types, coverage: { scope: 'users', listed: ownSet.size, counted: true, server, leftOut }, missingWhere };
}
