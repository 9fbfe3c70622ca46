/** DirectAdmin's port when a URL names none. */
export const DEFAULT_PORT = 2222;

/** A host name or address without the brackets a URL puts around IPv6 (`[::1]` -> `::1`). */
export function unbracket(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}

export interface ServerUrl {
  /** scheme://host:port[/prefix], no credentials, no trailing slash. */
  baseUrl: string;
  /** Host name or address as written (brackets removed from IPv6). */
  host: string;
  username?: string;
  secret?: string;
}

/**
 * Reads the URL form `da api-url` prints (`https://admin:KEY@host:2222`, or `admin|fred` for
 * login-as), and plain `https://host:2222`. Errors never echo the input: it may hold a key.
 */
export function parseServerUrl(input: string): ServerUrl {
  const raw = input.trim();
  if (!/^https?:\/\//i.test(raw)) throw new Error('the server URL must start with https:// (or http:// for a local test server)');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error('the server URL is not a valid URL (expected https://HOST:2222)');
  }
  if (u.search || u.hash) throw new Error('the server URL must not carry a query or fragment (expected https://HOST:2222)');
  if (!u.hostname) throw new Error('the server URL has no host');
  // URL drops a port equal to the scheme's default, so look at what was written.
  const authority = /^[a-z]+:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d+))?/i.exec(raw);
  const port = authority?.[2] ? Number(authority[2]) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('the server URL has an invalid port');
  const hostForUrl = u.hostname; // keeps IPv6 brackets
  const host = unbracket(hostForUrl);
  const prefix = u.pathname.replace(/\/+$/, '');
  // URL resolves `.`/`..` segments and re-encodes some characters: a path it would rewrite is refused, never silently changed.
  const rawPath = raw.replace(/^[a-z]+:\/\/[^/?#\\]*/i, '');
  if (rawPath.replace(/\/+$/, '') !== prefix)
    throw new Error(
      'the server URL path has "." or ".." segments or characters a URL would rewrite: write the path exactly as the server serves it (expected https://HOST:2222 or https://HOST:2222/PREFIX)',
    );
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new Error('the server URL has a badly percent-encoded user or key');
    }
  };
  const result: ServerUrl = { baseUrl: `${u.protocol}//${hostForUrl}:${port}${prefix}`, host };
  if (u.username) result.username = decode(u.username);
  if (u.password) result.secret = decode(u.password);
  return result;
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain HTTP is allowed to without --allow-http. */
export function isLoopbackHost(host: string): boolean {
  const h = unbracket(host).toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\.\d+\.\d+\.\d+$/.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
