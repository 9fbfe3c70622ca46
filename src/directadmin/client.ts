// CONTRACT STUB: the protocol helper replaces the bodies; signatures are what the rest of the code relies on.
import type { DirectAdminError } from './errors.js';

export interface TlsOptions {
  /** PEM of a CA (or the server's own certificate) to trust in addition to the system store. */
  ca?: string | Buffer;
  /** SHA-256 fingerprint of the server certificate to pin ("AA:BB:..." or plain hex, any case). */
  fingerprint?: string;
  /** Skip verification entirely (only when the operator asked for it). */
  insecure?: boolean;
}

export interface RequestEvent {
  command: string;
  method: 'GET' | 'POST';
  /** Wall time from dispatch to a parsed answer or error, in ms. */
  durationMs: number;
  /** HTTP status, 0 when there was no answer. */
  status: number;
  error?: DirectAdminError;
}

export interface ClientOptions {
  /** scheme://host[:port][/prefix] without credentials. */
  baseUrl: string;
  /** Account to authenticate as; may be login-as form "admin|fred". */
  username: string;
  /** Password or login key. Never logged, never put in a URL. */
  secret: string;
  tls?: TlsOptions;
  /** Permit http:// to a non-loopback host. */
  allowHttp?: boolean;
  /** Per request: connect, headers and body timeouts (default 30000). */
  timeoutMs?: number;
  /** Keep-alive connections in the pool (default 8). */
  connections?: number;
  /** Answer format requested (default 'json': sends json=yes). */
  format?: 'json' | 'urlencoded';
  /** Refuse answers larger than this without buffering them whole (default 64 MiB). */
  maxBodyBytes?: number;
  /** Observability hook, called once per request. */
  onRequest?: (event: RequestEvent) => void;
}

export interface ActionResult {
  text: string;
  details: string;
}

export class DirectAdminClient {
  readonly host: string = '';
  readonly origin: string = '';
  /** The first fatal error seen; once set, every call rejects with it without sending anything. */
  fatalError: DirectAdminError | undefined;
  constructor(_options: ClientOptions) {
    throw new Error('not implemented');
  }
  loginTest(): Promise<ActionResult> { throw new Error('stub'); }
  showUsers(_reseller?: string): Promise<string[]> { throw new Error('stub'); }
  showAllUsers(): Promise<string[]> { throw new Error('stub'); }
  showResellers(): Promise<string[]> { throw new Error('stub'); }
  showAdmins(): Promise<string[]> { throw new Error('stub'); }
  showUserConfig(_user: string): Promise<Record<string, string>> { throw new Error('stub'); }
  userExists(_user: string): Promise<boolean> { throw new Error('stub'); }
  verifyPassword(_user: string, _passwd: string): Promise<boolean> { throw new Error('stub'); }
  changePassword(_user: string, _passwd: string): Promise<ActionResult> { throw new Error('stub'); }
  close(): Promise<void> { throw new Error('stub'); }
}
