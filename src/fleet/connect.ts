/**
 * Per-server connection settings from an inventory entry: the secret read from its environment
 * variable or private file, the CA read, the rest from the command line. Every problem over every
 * selected server is collected and reported together, before any request.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { ConnectionSettings, Env } from '../options.js';
import { readSecretFile } from '../options.js';
import { InventoryError, type Inventory, type InventoryProblem, type InventoryServer } from './inventory.js';

export interface CommonConnection {
  timeoutMs: number;
  format: 'json' | 'urlencoded';
}

export interface ServerConnection {
  server: InventoryServer;
  connection: ConnectionSettings;
}

function connectionFor(s: InventoryServer, env: Env, common: CommonConnection, problems: InventoryProblem[]): ConnectionSettings | undefined {
  let secret: string | undefined;
  let secretSource: string;
  if ('env' in s.secret) {
    secretSource = `secret_env:${s.secret.env}`;
    secret = env[s.secret.env];
    if (!secret) problems.push({ ...s.secretAt, message: `the environment variable ${s.secret.env} (server "${s.name}") is not set or empty` });
  } else {
    secretSource = 'secret_file';
    try {
      secret = readSecretFile(s.secret.file, 'secret_file');
    } catch (e) {
      problems.push({ ...s.secretAt, message: `${(e as Error).message.replace(/^secret_file: /, '')} (server "${s.name}")` });
    }
  }
  let ca: Buffer | undefined;
  if (s.ca) {
    try {
      ca = readFileSync(s.ca);
    } catch {
      problems.push({ ...(s.caAt ?? { line: s.line, key: 'ca' }), message: `cannot read ${s.ca} (server "${s.name}")` });
    }
  }
  if (!secret) return undefined;
  return {
    baseUrl: s.baseUrl,
    host: s.host,
    username: s.user,
    secret,
    secretSource,
    tls: { ...(ca ? { ca } : {}), ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}) },
    allowHttp: false,
    timeoutMs: common.timeoutMs,
    format: common.format,
    warnings: [],
  };
}

/** Connection settings for every selected server, or one InventoryError naming every problem. */
export function resolveConnections(inventory: Inventory, servers: readonly InventoryServer[], env: Env, common: CommonConnection): ServerConnection[] {
  const problems: InventoryProblem[] = [];
  const out: ServerConnection[] = [];
  for (const server of servers) {
    const connection = connectionFor(server, env, common, problems);
    if (connection) out.push({ server, connection });
  }
  if (problems.length)
    throw new InventoryError(
      inventory.file,
      problems.sort((a, b) => a.line - b.line),
    );
  if (out.length === 0) throw new UsageError(`no server selected from ${inventory.file}`);
  return out;
}
