/** Secrets the operator hands over in a file or on standard input, read the careful way. */
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** Reads a secret file the way ssh treats a private key: refused if others can read it. */
export function readSecretFile(path: string, flag: string): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(secretFileProblem(path, flag, e));
  }
  if (st.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory: give the file that holds the secret (nothing was sent)`);
  if (!st.isFile()) throw new UsageError(`${flag}: ${path} is not a regular file: give the file that holds the secret (nothing was sent)`);
  const mode = Number(st.mode);
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`${flag}: ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(secretFileProblem(path, flag, e));
  }
  const text = raw.replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`${flag}: ${path} is empty`);
  if (/[\r\n]/.test(text)) throw new UsageError(`${flag}: ${path} must hold the secret on a single line`);
  return text;
}

/** One line for a secret file that cannot be read: which path, why, and the fix. */
function secretFileProblem(path: string, flag: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `${flag}: ${path} does not exist: check the path (nothing was sent)`;
    case 'ENOTDIR':
      return `${flag}: ${path}: a part of that path is not a directory: check the path (nothing was sent)`;
    case 'EACCES':
    case 'EPERM':
      return `${flag}: cannot read ${path}: permission denied; run da-rotate as the file's owner, or \`chmod 600\` it as that owner (nothing was sent)`;
    case 'EISDIR':
      return `${flag}: ${path} is a directory: give the file that holds the secret (nothing was sent)`;
    default:
      return `${flag}: cannot read ${path} (${code ?? String(e)}): check the file (nothing was sent)`;
  }
}

export async function readStdinOnce(stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError(`${what}: standard input is a terminal; pipe the secret in (e.g. from a file or a password manager)`);
  }
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`${what}: standard input was empty`);
  if (/[\r\n]/.test(text)) throw new UsageError(`${what}: expected a single line on standard input`);
  return text;
}
