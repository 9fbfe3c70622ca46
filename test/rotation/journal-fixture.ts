/** A journal header for tests of the journal, its fold and the report built from it. */
import type { Credential } from '../../src/kinds/index.js';
import { hashCredentials, type JournalHeader } from '../../src/rotation/journal.js';

/** The credentials of `accounts` (account passwords), plus `extra`. */
export function accountCredentials(accounts: readonly string[], extra: readonly Credential[] = []): Credential[] {
  return [...accounts.map((u): Credential => ({ kind: 'account', owner: u, name: u })), ...extra];
}

/** A header of a rotation of `credentials` on https://h:2222; `fields` replaces any field. */
export function journalHeader(credentials: Credential[], fields: Partial<JournalHeader> = {}): JournalHeader {
  return {
    t: 'header',
    v: 2,
    server: 'https://h:2222',
    host: 'h:2222',
    user: 'admin',
    scope: 'users',
    startedAt: '2026-01-01T00:00:00.000Z',
    report: '/r.csv',
    options: { length: 22, symbols: false, samePassword: false, exclude: [], only: null, include: ['account'] },
    credentials,
    credentialsSha256: hashCredentials(credentials),
    skipped: [],
    ...fields,
  };
}
