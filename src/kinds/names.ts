/**
 * Names the server hands us (domains, mailboxes, FTP logins, database users, key and session ids)
 * go back into requests: as query values, form fields and URL path segments. Each is checked
 * against the characters DirectAdmin allows for it before any request carries it; one that does
 * not pass (`=1+1`, a line break, `../../etc`) is never sent and gets a report row naming it.
 */
import type { Credential, KindName } from './kind.js';

/** Account usernames: a lower-case letter, then lower-case letters or digits (enumerate.ts and login-as). */
const USER = /^[a-z][a-z0-9]{0,31}$/;
/** A DNS name: labels of letters, digits and inner hyphens (IDNs arrive as xn--), at least two. */
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A mailbox's or an FTP account's name before the @: letters, digits, dot, underscore, hyphen; no leading dot, no "..". */
const LOCAL = /^(?!\.)(?!.*\.\.)[A-Za-z0-9._-]{1,64}$/;
/** A database user: `owner_suffix`, letters, digits and underscores (MySQL's 80 at most). */
const DB_USER = /^[A-Za-z0-9_]{1,80}$/;
/** A login key's or a session's id: letters, digits, underscore, hyphen, inner dots; it becomes a URL path segment. */
const ID = /^(?!\.)(?!.*\.\.)[A-Za-z0-9._-]{1,128}$/;

export type NamePart = 'user' | 'domain' | 'local' | 'db-user' | 'id';

const RULES: Record<NamePart, { re: RegExp; what: string }> = {
  user: { re: USER, what: 'an account name (a lower-case letter, then lower-case letters or digits)' },
  domain: { re: DOMAIN, what: 'a domain name (letters, digits, hyphens, dots)' },
  local: { re: LOCAL, what: 'a mailbox or FTP name (letters, digits, ".", "_", "-")' },
  'db-user': { re: DB_USER, what: 'a database user (letters, digits, "_")' },
  id: { re: ID, what: 'an id (letters, digits, ".", "_", "-")' },
};

/** Undefined when `value` is a valid name of that part; otherwise why it is refused (the value shown escaped). */
export function nameProblem(part: NamePart, value: string): string | undefined {
  const rule = RULES[part];
  if (rule.re.test(value)) return undefined;
  return `the server named ${JSON.stringify(value)}, not ${rule.what} DirectAdmin allows: never sent in a request (check the account on the server)`;
}

/** The parts of each kind's credential that go into requests. */
function partsOf(c: Credential): Array<[NamePart, string | undefined]> {
  switch (c.kind) {
    case 'account':
      return [['user', c.owner]];
    case 'email':
    case 'ftp':
      return [
        ['domain', c.data?.domain],
        ['local', c.data?.local ?? c.data?.user],
      ];
    case 'db-user':
      return [['db-user', c.name]];
    case 'login-key':
    case 'session':
      return [['id', c.name]];
  }
}

/** Why this credential may not be sent, or undefined. */
export function credentialNameProblem(c: Credential): string | undefined {
  for (const [part, value] of partsOf(c)) {
    const p = nameProblem(part, value ?? '');
    if (p) return p;
  }
  return undefined;
}

/**
 * Marks the credentials of a listing whose names may not go into a request (`refused`, the
 * reason): the run reports them as failed rows naming them and never sends them.
 */
export function checkNames(list: Credential[]): Credential[] {
  for (const c of list) {
    const p = credentialNameProblem(c);
    if (p) c.refused = p;
  }
  return list;
}

/** A domain the server listed that fails the rules: a refused placeholder of `kind` (`*@domain`) instead of a listing request. */
export function refusedDomain(kind: KindName, owner: string, domain: string): Credential | undefined {
  const p = nameProblem('domain', domain);
  return p ? { kind, owner, name: `*@${domain}`, refused: p } : undefined;
}
