/** Every credential kind the run knows, by name. Adding a kind: one module here and its simulator counterpart. */
import { accountPassword } from './account-password.js';
import { dbUser } from './db-user.js';
import { ftpAccount } from './ftp-account.js';
import { loginKey } from './login-key.js';
import { mailbox } from './mailbox.js';
import { panelSession } from './session.js';
import { KIND_NAMES, KIND_ORDER, OPT_IN_KINDS, type CredentialKind, type KindName } from './kind.js';

export * from './kind.js';

const KINDS: Partial<Record<KindName, CredentialKind>> = {
  account: accountPassword,
  'login-key': loginKey,
  session: panelSession,
  email: mailbox,
  ftp: ftpAccount,
  'db-user': dbUser,
};

export function kindByName(name: KindName): CredentialKind {
  const kind = KINDS[name];
  if (!kind) throw new Error(`no credential kind ${name}`);
  return kind;
}

/** Kinds this build supports, in sweep order. */
export function availableKinds(): KindName[] {
  return KIND_ORDER.filter((k) => KINDS[k] !== undefined);
}

/** What `--include all` means: every kind but the opt-in ones (database users break sites). */
export function defaultAllKinds(): KindName[] {
  return availableKinds().filter((k) => !KINDS[k]!.optIn);
}

// The options table names kinds without loading them (start-up): the two lists must agree.
for (const k of KIND_NAMES) if (!KINDS[k] || !KIND_ORDER.includes(k)) throw new Error(`kind ${k} has no module or no place in KIND_ORDER`);
for (const k of OPT_IN_KINDS) if (!KINDS[k]?.optIn) throw new Error(`kind ${k} is listed opt-in but its module is not`);
