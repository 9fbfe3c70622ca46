/** The connection flags and the environment turned into validated ConnectionSettings, before any request. */
import { readFileSync } from 'node:fs';
import type { TlsOptions } from '../directadmin/tls.js';
import { isLoopbackHost, parseServerUrl } from '../directadmin/url.js';
import { UsageError } from '../errors.js';
import type { ConnectionSettings } from '../rotation/settings.js';
import { readSecretFile, readStdinOnce } from './secrets.js';
import type { Env } from './types.js';
import { checkedArgv, type ArgvInput } from './validate.js';

export interface IoForSettings {
  env: Env;
  stdin: NodeJS.ReadableStream;
}

export async function resolveConnection(input: ArgvInput, io: IoForSettings): Promise<ConnectionSettings> {
  const argv = checkedArgv(input);
  const warnings: string[] = [];
  const serverFlag = argv.server;
  const source = serverFlag ?? io.env.DA_URL;
  if (!source) {
    throw new UsageError('no server given: set DA_URL (e.g. from `da api-url`) or pass --server https://HOST:2222');
  }
  let parsed: ReturnType<typeof parseServerUrl>;
  try {
    parsed = parseServerUrl(source);
  } catch (e) {
    const where = serverFlag ? '--server' : 'DA_URL';
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
  if (serverFlag && parsed.secret) {
    warnings.push('credentials inside --server are visible to other users in `ps`; prefer DA_URL in the environment or --password-file');
  }
  const username = argv.user ?? parsed.username;
  if (!username) throw new UsageError('no user given: pass --user NAME or put it in the URL (https://admin:KEY@host:2222)');

  const passwordFile = argv.passwordFile;
  const fromStdin = argv.passwordStdin === true;
  if (passwordFile && fromStdin) throw new UsageError('give only one of --password-file and --password-stdin');
  let secret: string | undefined;
  let secretSource = '';
  if (passwordFile) {
    secret = readSecretFile(passwordFile, '--password-file');
    secretSource = 'password-file';
  } else if (fromStdin) {
    secret = await readStdinOnce(io.stdin, '--password-stdin');
    secretSource = 'stdin';
  } else if (parsed.secret) {
    secret = parsed.secret;
    secretSource = serverFlag ? 'server-url' : 'DA_URL';
  } else if (io.env.DA_LOGIN_KEY) {
    secret = io.env.DA_LOGIN_KEY;
    secretSource = 'DA_LOGIN_KEY';
  } else if (io.env.DA_PASSWORD) {
    secret = io.env.DA_PASSWORD;
    secretSource = 'DA_PASSWORD';
  }
  if (!secret) {
    throw new UsageError('no password or login key: set DA_LOGIN_KEY or DA_PASSWORD, or use --password-file FILE or --password-stdin');
  }

  const tls: TlsOptions = {};
  const caFile = argv.ca;
  if (caFile) {
    try {
      tls.ca = readFileSync(caFile);
    } catch {
      throw new UsageError(`--ca: cannot read ${caFile}`);
    }
  }
  // Its form (64 hex digits) is the table's pattern, checked as it is read.
  const fingerprint = argv.fingerprint;
  if (fingerprint) tls.fingerprint = fingerprint;
  if (argv.insecure === true && fingerprint) {
    throw new UsageError('--insecure turns certificate checks off and --fingerprint pins the certificate: give only --fingerprint (nothing was sent)');
  }
  if (argv.insecure === true) {
    tls.insecure = true;
    warnings.push('--insecure: the TLS certificate is not verified; anyone on the path can read the new passwords. Prefer --fingerprint');
  }
  const allowHttp = argv.allowHttp === true;
  // The client refuses plain http to other hosts unless allowed; here only the warning.
  if (allowHttp && parsed.baseUrl.startsWith('http:') && !isLoopbackHost(parsed.host)) {
    warnings.push('--allow-http: credentials and new passwords travel in clear text');
  }
  return {
    baseUrl: parsed.baseUrl,
    host: parsed.host,
    username,
    secret,
    secretSource,
    tls,
    allowHttp,
    timeoutMs: Math.round(argv.timeout * 1000),
    format: argv.format,
    warnings,
  };
}
