/**
 * age (https://age-encryption.org/v1) for da-rotate: X25519 recipients only, standard binary files
 * that the `age` command-line tool decrypts, identities read from a private file the way ssh reads
 * a private key. Nothing here ever puts a secret key in an error message.
 */
import { readFileSync, statSync } from 'node:fs';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { describeError, UsageError } from '../errors.js';

/** An age X25519 public key, `age1` + 58 bech32 characters (as `age-keygen` prints it). */
export type AgeRecipient = string & { readonly __ageRecipient: true };
/** An age X25519 secret key, `AGE-SECRET-KEY-1` + 58 bech32 characters. */
export type AgeIdentity = string & { readonly __ageIdentity: true };

/** The first bytes of every binary age file. */
export const AGE_MAGIC = 'age-encryption.org/v1\n';
/** An identity file larger than this is not an identity file. */
const MAX_IDENTITY_FILE_BYTES = 1024 * 1024;

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** BIP-173 checksum over a lower-case bech32 string: true when `hrp1data` is intact. */
function bech32Valid(text: string, hrp: string, dataChars: number): boolean {
  if (!text.startsWith(`${hrp}1`) || text.length !== hrp.length + 1 + dataChars) return false;
  let chk = 1;
  const step = (v: number) => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  };
  for (const c of hrp) step(c.charCodeAt(0) >>> 5);
  step(0);
  for (const c of hrp) step(c.charCodeAt(0) & 31);
  for (const c of text.slice(hrp.length + 1)) {
    const v = BECH32.indexOf(c);
    if (v < 0) return false;
    step(v);
  }
  return chk === 1;
}

/** 32 bytes = 52 five-bit groups, plus a 6-character checksum. */
const KEY_CHARS = 58;

/** Validates one recipient; a UsageError names the flag and never echoes a pasted secret key. */
export function parseRecipient(value: string, flag = '--encrypt-to'): AgeRecipient {
  const text = value.trim();
  if (/^AGE-SECRET-KEY-/i.test(text)) {
    throw new UsageError(
      `${flag}: that is a secret key (an identity), not a recipient; give its public key instead (age-keygen -y KEYFILE prints it) and keep the secret key private`,
    );
  }
  if (/^age1(pq|tag)/i.test(text) || /^ssh-/.test(text)) {
    throw new UsageError(`${flag}: only age X25519 recipients (age1... from age-keygen) are supported, not post-quantum, tag, plugin or SSH recipients`);
  }
  if (!bech32Valid(text, 'age', KEY_CHARS)) {
    const shown = text.length > 70 ? `${text.slice(0, 12)}...` : text;
    throw new UsageError(`${flag}: "${shown}" is not an age X25519 recipient: expected "age1" followed by 58 lower-case characters, as printed by age-keygen`);
  }
  return text as AgeRecipient;
}

/** Validates a list (repeatable flag, comma-separated allowed); duplicates collapse; at least one. */
export function parseRecipients(values: readonly string[], flag = '--encrypt-to'): AgeRecipient[] {
  const items = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag}: give at least one age recipient (age1...)`);
  return [...new Set(items.map((v) => parseRecipient(v, flag)))];
}

/** Parses identity text: one AGE-SECRET-KEY-1... per line, `#` comments and blank lines allowed. */
export function parseIdentities(text: string, where: string): AgeIdentity[] {
  const out: AgeIdentity[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/^AGE-SECRET-KEY-PQ-/.test(line) || /^AGE-PLUGIN-/.test(line)) {
      throw new UsageError(`${where}: line ${i + 1} is a post-quantum or plugin identity; only X25519 identities (AGE-SECRET-KEY-1...) are supported`);
    }
    if (!/^AGE-SECRET-KEY-1[A-Z0-9]+$/.test(line) || !bech32Valid(line.toLowerCase(), 'age-secret-key-', KEY_CHARS)) {
      throw new UsageError(`${where}: line ${i + 1} is not an age identity (expected AGE-SECRET-KEY-1... as written by age-keygen)`);
    }
    out.push(line as AgeIdentity);
  }
  if (out.length === 0) throw new UsageError(`${where}: holds no age identity (AGE-SECRET-KEY-1...)`);
  return out;
}

/**
 * Reads an identity file, refused (like an ssh private key) when group or others have any
 * permission on it. The key itself is never part of an error.
 */
export function readIdentityFile(path: string, flag = '--identity'): AgeIdentity[] {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'error')}`);
  }
  if (!st.isFile()) throw new UsageError(`${flag}: ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new UsageError(`${flag}: ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  if (st.size > MAX_IDENTITY_FILE_BYTES) throw new UsageError(`${flag}: ${path} is too large to be an age identity file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseIdentities(text, `${flag} ${path}`);
}

/** Encrypts to every recipient; the result is a binary age file (`age -d -i KEY` opens it). */
export async function encryptToRecipients(data: Uint8Array | string, recipients: readonly AgeRecipient[]): Promise<Uint8Array> {
  if (recipients.length === 0) throw new Error('encryptToRecipients: no recipient');
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return e.encrypt(data);
}

/** True when the bytes start like a binary age file. */
export function looksLikeAge(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, AGE_MAGIC.length)).toString('latin1') === AGE_MAGIC;
}

/**
 * Decrypts an age file with any of the identities. Errors are UsageErrors saying which of the two
 * things went wrong: no identity matches (wrong key file), or the file is damaged or not age.
 */
export async function decryptWithIdentities(data: Uint8Array, identities: readonly AgeIdentity[], what = 'the file'): Promise<Uint8Array> {
  if (identities.length === 0) throw new UsageError(`${what} is encrypted: pass --identity FILE`);
  if (!looksLikeAge(data)) throw new UsageError(`${what} is not an age-encrypted file`);
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  try {
    return await d.decrypt(data);
  } catch (e) {
    const text = describeError(e);
    if (/no identity matched/i.test(text)) {
      throw new UsageError(
        `${what}: none of the --identity keys can open it (it was encrypted to other recipients): pass the identity matching one of its --encrypt-to recipients`,
      );
    }
    throw new UsageError(`${what} is damaged or was altered: age refused it (${text.replace(/AGE-SECRET-KEY-[A-Z0-9-]+/g, '<key>')})`);
  }
}

/** A fresh X25519 key pair (for tests and `age-keygen`-less setups). */
export async function generateKeyPair(): Promise<{ identity: AgeIdentity; recipient: AgeRecipient }> {
  const identity = (await generateX25519Identity()) as AgeIdentity;
  return { identity, recipient: (await identityToRecipient(identity)) as AgeRecipient };
}

/** The recipient (public key) of an identity. */
export async function recipientOf(identity: AgeIdentity): Promise<AgeRecipient> {
  return (await identityToRecipient(identity)) as AgeRecipient;
}
