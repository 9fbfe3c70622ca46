/**
 * Sealed secrets for the journal: one random 32-byte data key per run, wrapped once for the age
 * recipients (an age file, base64, in the journal header), and each secret sealed with AES-256-GCM
 * under that key. Sealing costs microseconds, so the fsync-before-send rule keeps its speed; only
 * opening the wrapped key needs the operator's identity.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { decryptWithIdentities, encryptToRecipients, type AgeIdentity, type AgeRecipient } from './age.js';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Version prefix of a sealed value: 'v1.' + base64url(nonce | ciphertext | tag). */
export const SEALED_PREFIX = 'v1.';
/** Names the scheme in the journal header, so a future scheme is refused rather than misread. */
export const SEALING_SCHEME = 'age-x25519/aes-256-gcm/v1';

/** A sealed value that fails authentication: the journal was altered, truncated, or mixed up. */
export class SealedSecretError extends Error {
  readonly code = 'SEALED_SECRET';
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

export class SecretSealer {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** A fresh data key, and that key wrapped for the recipients (store `wrappedKey` in the journal header). */
  static async create(recipients: readonly AgeRecipient[]): Promise<{ sealer: SecretSealer; wrappedKey: string }> {
    if (recipients.length === 0) throw new Error('SecretSealer.create: no recipient');
    const key = randomBytes(KEY_BYTES);
    const wrapped = await encryptToRecipients(key, recipients);
    return { sealer: new SecretSealer(key), wrappedKey: Buffer.from(wrapped).toString('base64') };
  }

  /** Unwraps a journal's data key with the operator's identities (UsageError when none fits). */
  static async open(wrappedKey: string, identities: readonly AgeIdentity[]): Promise<SecretSealer> {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(wrappedKey))
      throw new SealedSecretError('the wrapped data key in the journal header is not base64: the journal was altered');
    const key = await decryptWithIdentities(Buffer.from(wrappedKey, 'base64'), identities, "the journal's data key");
    if (key.length !== KEY_BYTES)
      throw new SealedSecretError(`the journal's data key has ${key.length} bytes instead of ${KEY_BYTES}: the journal was altered`);
    return new SecretSealer(Buffer.from(key));
  }

  /**
   * Seals a secret. `context` (e.g. the credential's identity) is authenticated but not stored: the
   * same context must be given to unseal, so a sealed value moved to another record is refused.
   */
  seal(plaintext: string, context = ''): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    if (context) cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return SEALED_PREFIX + body.toString('base64url');
  }

  /** Opens a sealed value; throws SealedSecretError when it was altered or sealed under another context or key. */
  unseal(sealed: string, context = ''): string {
    if (!isSealed(sealed)) throw new SealedSecretError('not a sealed secret (expected v1.<base64url>): the journal was altered or mixes formats');
    const body = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    if (body.length < NONCE_BYTES + TAG_BYTES) throw new SealedSecretError('a sealed secret is truncated: the journal was altered');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, body.subarray(0, NONCE_BYTES));
    if (context) decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedSecretError('a sealed secret failed authentication: the journal was altered, or the value belongs to another record or run');
    }
  }
}

/**
 * True when a value has the sealed shape. A journal says in its header whether its values are
 * sealed; this is a sanity check on a value, never a way to guess whether one is a password.
 */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX) && /^[A-Za-z0-9_-]+$/.test(value.slice(SEALED_PREFIX.length));
}

/** What the journal header records when secrets are sealed (`encryption`): the scheme, the recipients and the wrapped data key. */
export interface SealingHeader {
  scheme: typeof SEALING_SCHEME;
  /** The recipients the data key (and the report) were encrypted to: public, for the audit trail. */
  recipients: AgeRecipient[];
  /** base64 of an age file holding the 32-byte data key. */
  wrappedKey: string;
}

/** Reads a header's sealing entry: refuses unknown schemes instead of treating sealed values as passwords. */
export function checkSealingHeader(value: unknown): SealingHeader {
  const h = value as Partial<SealingHeader> | null;
  if (!h || typeof h !== 'object' || h.scheme !== SEALING_SCHEME || typeof h.wrappedKey !== 'string' || !Array.isArray(h.recipients)) {
    throw new UsageError(
      `the journal's encryption header is missing or of an unknown scheme (this version reads ${SEALING_SCHEME}): use the da-rotate version that wrote it`,
    );
  }
  return h as SealingHeader;
}
