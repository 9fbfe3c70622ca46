import { randomFillSync } from 'node:crypto';

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
/**
 * Special characters a password given by the operator (--same-password) may hold: safe everywhere
 * DirectAdmin passwords travel: no `&`, `=`, `+`, `%` (form encoding), no `|` or `:` (login-as
 * and Basic syntax), no quotes, backslash or whitespace.
 */
export const SAFE_SYMBOLS = '!@#%^*-_.';
/**
 * The special characters generated passwords use (--symbols): only `-`, `_` and `.`, the
 * characters RFC 3986 leaves unreserved, so a password pasted into an FTP URL
 * (ftp://user:PASSWORD@host) needs no escaping (`@` ends the password there, `#` starts a
 * fragment, `%` an escape), and a shell word needs no quoting (`!` and `^` are history expansion,
 * `*` a glob, `#` a comment). DirectAdmin's difficult-password check asks for one character that
 * is not a letter or a digit, which any of the three satisfies. 65 characters instead of 71 cost
 * 0.13 bits per character: a 22-character password keeps more than 130 bits.
 */
export const GENERATED_SYMBOLS = '-_.';
export const ALNUM = UPPER + LOWER + DIGITS;

export const DEFAULT_LENGTH = 22;
export const MIN_LENGTH = 12;
export const MAX_LENGTH = 128;

export interface PasswordPolicy {
  length: number;
  symbols: boolean;
}

function hasAny(s: string, set: string): boolean {
  for (const c of s) if (set.includes(c)) return true;
  return false;
}

/** Which rule a password breaks, or undefined when it satisfies the policy. */
export function policyViolation(password: string, policy: PasswordPolicy): string | undefined {
  const allowed = ALNUM + SAFE_SYMBOLS;
  if (password.length < MIN_LENGTH) return `it is shorter than ${MIN_LENGTH} characters`;
  if (password.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} characters`;
  for (const c of password) {
    if (!allowed.includes(c)) return `it contains a character outside A-Z a-z 0-9 ${SAFE_SYMBOLS}`;
  }
  // A leading formula character would be escaped in the CSV report and so copied wrong.
  if (!ALNUM.includes(password[0]!)) return 'it must start with a letter or a digit';
  if (!hasAny(password, UPPER)) return 'it has no upper-case letter';
  if (!hasAny(password, LOWER)) return 'it has no lower-case letter';
  if (!hasAny(password, DIGITS)) return 'it has no digit';
  if (policy.symbols && !hasAny(password, SAFE_SYMBOLS)) return `it has no special character from ${SAFE_SYMBOLS}`;
  return undefined;
}

/**
 * Random bytes drawn from the CSPRNG a pool at a time (one call per ~180 passwords instead of one
 * per character); each byte is used once and zeroed as it is taken.
 */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function randomByte(): number {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const b = pool[poolAt]!;
  pool[poolAt++] = 0;
  return b;
}

/** A uniform index below n (n <= 256): bytes at or above the largest multiple of n are redrawn (no modulo bias). */
function uniformIndex(n: number, below: number): number {
  for (;;) {
    const b = randomByte();
    if (b < below) return b % n;
  }
}

const CLASS_UPPER = 1;
const CLASS_LOWER = 2;
const CLASS_DIGIT = 4;
const CLASS_SYMBOL = 8;
/** Which class each character belongs to, by its index in ALNUM + symbols: every index past ALNUM is a symbol, whichever set. */
const classOf = (ALNUM + SAFE_SYMBOLS)
  .split('')
  .map((c) => (UPPER.includes(c) ? CLASS_UPPER : LOWER.includes(c) ? CLASS_LOWER : DIGITS.includes(c) ? CLASS_DIGIT : CLASS_SYMBOL));

/**
 * A fresh password: every character drawn uniformly from the CSPRNG (rejection sampling, no
 * modulo bias), the first from letters and digits so the report never has to escape it.
 * Candidates missing a required class are rejected and redrawn, which keeps the result uniform over
 * all valid passwords (at 22 alphanumerics about 1 candidate in 40 is redrawn).
 */
export function generatePassword(policy: PasswordPolicy = { length: DEFAULT_LENGTH, symbols: false }): string {
  const { length } = policy;
  if (!Number.isInteger(length) || length < MIN_LENGTH || length > MAX_LENGTH) {
    throw new RangeError(`password length must be an integer from ${MIN_LENGTH} to ${MAX_LENGTH}`);
  }
  const alphabet = policy.symbols ? ALNUM + GENERATED_SYMBOLS : ALNUM;
  const n = alphabet.length;
  const below = 256 - (256 % n);
  const belowAlnum = 256 - (256 % ALNUM.length);
  const required = CLASS_UPPER | CLASS_LOWER | CLASS_DIGIT | (policy.symbols ? CLASS_SYMBOL : 0);
  for (;;) {
    let i = uniformIndex(ALNUM.length, belowAlnum);
    let pw = ALNUM[i]!;
    let seen = classOf[i]!;
    for (let k = 1; k < length; k++) {
      i = uniformIndex(n, below);
      pw += alphabet[i]!;
      seen |= classOf[i]!;
    }
    if ((seen & required) === required) return pw;
  }
}
