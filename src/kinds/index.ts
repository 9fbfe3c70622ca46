/** Every credential kind the run knows, by name. Adding a kind: one module here and its simulator counterpart. */
import { accountPassword } from './account-password.js';
import { KIND_ORDER, type CredentialKind, type KindName } from './kind.js';

export * from './kind.js';

const KINDS: Partial<Record<KindName, CredentialKind>> = {
  account: accountPassword,
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
