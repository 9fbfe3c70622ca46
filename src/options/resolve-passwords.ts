/** The password policy (--length, --symbols) and a shared password (--same-password, --same-password-file). */
import { UsageError } from '../errors.js';
import { DEFAULT_LENGTH, policyViolation, type PasswordPolicy } from '../rotation/password.js';
import type { IoForSettings } from './resolve-connection.js';
import { readSecretFile, readStdinOnce } from './secrets.js';
import { checkedArgv, type ArgvInput } from './validate.js';

export function resolvePolicy(input: ArgvInput): PasswordPolicy {
  const argv = checkedArgv(input);
  return { length: argv.length ?? DEFAULT_LENGTH, symbols: argv.symbols === true };
}

/** resume: only what was given replaces the journal's policy. */
export function resolvePolicyOverride(input: ArgvInput): Partial<PasswordPolicy> {
  const argv = checkedArgv(input);
  const out: Partial<PasswordPolicy> = {};
  if (argv.length !== undefined) out.length = argv.length;
  if (argv.symbols !== undefined) out.symbols = argv.symbols;
  return out;
}

export async function resolveSamePassword(input: ArgvInput, policy: PasswordPolicy, io: IoForSettings, stdinTaken: boolean): Promise<string | undefined> {
  const argv = checkedArgv(input);
  const file = argv.samePasswordFile;
  const fromStdin = argv.samePassword;
  if (!file && !fromStdin) return undefined;
  if (file && fromStdin) throw new UsageError('give only one of --same-password and --same-password-file');
  let pw: string;
  if (file) {
    pw = readSecretFile(file, '--same-password-file');
  } else {
    if (stdinTaken) throw new UsageError('--same-password and --password-stdin both want standard input: use --same-password-file or --password-file');
    pw = await readStdinOnce(io.stdin, '--same-password');
  }
  const why = policyViolation(pw, policy);
  if (why) throw new UsageError(`the shared password is refused: ${why}`);
  return pw;
}
