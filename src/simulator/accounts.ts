/** The simulator's account store: seeded, deterministic, indexed by name and by creator. */

export type AccountType = 'user' | 'reseller' | 'admin';

export interface SimAccount {
  username: string;
  type: AccountType;
  creator: string;
  suspended: boolean;
  password: string;
  email: string;
  domain: string;
  dateCreated: string;
}

export interface ExtraAccount {
  username: string;
  type?: AccountType;
  creator?: string;
  password?: string;
}

export interface SeedOptions {
  adminUser: string;
  adminPassword: string;
  users: number;
  resellers: number;
  extraAdmins: number;
  suspendedEvery: number;
  seed: number;
  extraAccounts: ExtraAccount[];
}

/** mulberry32: small, fast, good enough to lay out test data reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** DirectAdmin's date_created: `Tue Oct  6 14:02:18 2020` (day padded with a space). */
export function daDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export class AccountStore {
  readonly byName = new Map<string, SimAccount>();
  /** Creator -> names it created, in creation order. */
  readonly byCreator = new Map<string, string[]>();
  /** Creator -> the plain users (type 'user') it created: what CMD_API_SHOW_USERS lists. */
  readonly usersByCreator = new Map<string, string[]>();
  readonly admins: string[] = [];
  readonly resellers: string[] = [];
  readonly users: string[] = [];
  /** Users, resellers and admins, for SHOW_ALL_USERS when it is set to include every kind. */
  readonly everyone: string[] = [];

  add(account: SimAccount): void {
    if (this.byName.has(account.username)) throw new Error(`duplicate simulator account ${account.username}`);
    this.byName.set(account.username, account);
    const list = this.byCreator.get(account.creator);
    if (list) list.push(account.username);
    else this.byCreator.set(account.creator, [account.username]);
    if (account.type === 'admin') this.admins.push(account.username);
    else if (account.type === 'reseller') this.resellers.push(account.username);
    else {
      this.users.push(account.username);
      const own = this.usersByCreator.get(account.creator);
      if (own) own.push(account.username);
      else this.usersByCreator.set(account.creator, [account.username]);
    }
    this.everyone.push(account.username);
  }

  get(name: string): SimAccount | undefined {
    return this.byName.get(name);
  }

  ownedBy(creator: string): string[] {
    return this.byCreator.get(creator) ?? [];
  }

  usersOf(creator: string): string[] {
    return this.usersByCreator.get(creator) ?? [];
  }

  static seeded(o: SeedOptions): AccountStore {
    const rnd = seededRandom(o.seed);
    const password = (n = 16) => {
      let s = '';
      for (let i = 0; i < n; i++) s += ALNUM[Math.floor(rnd() * ALNUM.length)];
      return s;
    };
    const epoch = Date.UTC(2015, 0, 1);
    const created = () => daDate(new Date(epoch + Math.floor(rnd() * 10 * 365 * 86400) * 1000));
    const store = new AccountStore();
    const make = (username: string, type: AccountType, creator: string, pw: string, suspended = false): SimAccount => ({
      username,
      type,
      creator,
      suspended,
      password: pw,
      email: `${username}@example.net`,
      domain: `${username}.example.net`,
      dateCreated: created(),
    });
    store.add(make(o.adminUser, 'admin', 'root', o.adminPassword));
    for (let i = 1; i <= o.extraAdmins; i++) store.add(make(`${o.adminUser}${i + 1}`, 'admin', o.adminUser, password()));
    for (let i = 1; i <= o.resellers; i++) store.add(make(`reseller${i}`, 'reseller', o.adminUser, password()));
    const owners = [o.adminUser, ...store.resellers];
    const width = Math.max(5, String(o.users).length);
    for (let i = 1; i <= o.users; i++) {
      // About half the users belong to the admin, the rest spread over the resellers.
      const owner = owners.length === 1 || rnd() < 0.5 ? o.adminUser : owners[1 + Math.floor(rnd() * (owners.length - 1))]!;
      const suspended = o.suspendedEvery > 0 && i % o.suspendedEvery === 0;
      store.add(make(`user${String(i).padStart(width, '0')}`, 'user', owner, password(), suspended));
    }
    for (const x of o.extraAccounts) {
      store.add(make(x.username, x.type ?? 'user', x.creator ?? o.adminUser, x.password ?? password()));
    }
    return store;
  }
}
