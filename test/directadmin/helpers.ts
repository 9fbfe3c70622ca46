/** A small in-test HTTP server that answers exactly what each test scripts, and records requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DirectAdminClient, type ClientOptions } from '../../src/directadmin/index.js';

export interface Seen {
  method: string;
  url: string;
  body: string;
  authorization: string;
  contentType: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface TestServer {
  base: string;
  port: number;
  seen: Seen[];
  set(h: Handler): void;
  close(): Promise<void>;
}

export async function startServer(
  initial: Handler = (_q, res) => res.end('error=0&text=Login%20OK'),
  server: Server = createServer(),
  scheme = 'http',
): Promise<TestServer> {
  let handler = initial;
  const seen: Seen[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body,
        authorization: req.headers.authorization ?? '',
        contentType: req.headers['content-type'] ?? '',
      });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `${scheme}://127.0.0.1:${port}`,
    port,
    seen,
    set: (h) => (handler = h),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function client(base: string, extra: Partial<ClientOptions> = {}): DirectAdminClient {
  return new DirectAdminClient({ baseUrl: base, username: 'admin', secret: 'S3cretAdminPw', timeoutMs: 5000, ...extra });
}

/** Answers with a status, a body and an optional content type. */
export function answer(status: number, body: string, type = 'application/json'): Handler {
  return (_q, res) => {
    res.statusCode = status;
    if (body !== '') res.setHeader('content-type', type);
    res.end(body);
  };
}

export function basicUser(authorization: string): string {
  return Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
}
