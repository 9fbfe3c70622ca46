import type { PeerCertificate, TLSSocket } from 'node:tls';
import { buildConnector } from 'undici';
import { unbracket } from './url.js';

export interface TlsOptions {
  /** PEM of a CA (or the server's own certificate) to trust in addition to the system store. */
  ca?: string | Buffer;
  /** SHA-256 fingerprint of the server certificate to pin ("AA:BB:..." or plain hex, any case). */
  fingerprint?: string;
  /** Skip verification entirely (only when the operator asked for it). */
  insecure?: boolean;
}

/** Thrown from the connector; the client turns it into a TlsFailure. */
export class TlsVerificationError extends Error {
  readonly code = 'DA_TLS_VERIFICATION';
  constructor(
    readonly reason: string,
    readonly fingerprint: string | undefined,
  ) {
    super(`TLS verification failed: ${reason}`);
  }
}

export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

/**
 * Decides whether a TLS peer is acceptable. A pinned fingerprint replaces CA and host-name checks
 * (that is what pinning a self-signed DirectAdmin certificate means); otherwise the chain must
 * verify and the host name must match.
 */
export function verifyPeer(socket: TLSSocket, hostname: string, tls: TlsOptions): TlsVerificationError | undefined {
  if (tls.insecure) return undefined;
  const cert: PeerCertificate = socket.getPeerCertificate();
  const actual = cert && cert.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : undefined;
  if (!actual) return new TlsVerificationError('NO_PEER_CERTIFICATE', undefined);
  if (tls.fingerprint) {
    return normalizeFingerprint(tls.fingerprint) === actual ? undefined : new TlsVerificationError('FINGERPRINT_MISMATCH', actual);
  }
  if (!socket.authorized) {
    const err = socket.authorizationError as unknown;
    const reason = typeof err === 'string' ? err : err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : 'UNTRUSTED_CERTIFICATE';
    return new TlsVerificationError(reason, actual);
  }
  const identity = nodeTls().checkServerIdentity(hostname, cert);
  if (identity) return new TlsVerificationError((identity as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID', actual);
  return undefined;
}

type Connector = ReturnType<typeof buildConnector>;

/** node:tls, loaded by the first https:// server only: a plain-http run (the simulator's default) never needs its six modules. */
export function nodeTls(): typeof import('node:tls') {
  return process.getBuiltinModule('node:tls');
}

export function tlsConnector(tls: TlsOptions, timeoutMs: number): Connector {
  const ca = tls.ca ? [...nodeTls().rootCertificates, tls.ca.toString()] : undefined;
  // Node's own check is off so the certificate can be inspected (and its fingerprint shown);
  // verifyPeer does the same checks and refuses the socket before any byte is sent on it.
  const base = buildConnector({ rejectUnauthorized: false, ca, timeout: timeoutMs, maxCachedSessions: 0 });
  return (options, callback) => {
    base(options, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('connection failed'), null);
        return;
      }
      if (options.protocol === 'https:') {
        const failure = verifyPeer(socket as TLSSocket, unbracket(options.hostname), tls);
        if (failure) {
          socket.destroy();
          callback(failure, null);
          return;
        }
      }
      callback(null, socket);
    });
  };
}
