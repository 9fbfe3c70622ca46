/**
 * Writing answers: at once, slowly (trickle), or never (until the client gives up or the
 * simulator closes); reading request bodies. Every wait ends when the simulator closes.
 */
import type http from 'node:http';
import type { Answer } from './pages.js';
import type { TrickleFault } from './types.js';

const MAX_BODY = 1 << 20;

export class Transport {
  /** Pending sleeps: cleared and resolved at close, so nothing waits on a closed simulator. */
  readonly #sleeps = new Map<NodeJS.Timeout, () => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    for (const [t, resolve] of this.#sleeps) {
      clearTimeout(t);
      resolve();
    }
    this.#sleeps.clear();
  }

  send(res: http.ServerResponse, a: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(a.status, headers(a));
    res.end(a.body);
  }

  /** Headers at once, then the body one byte at a time (or nothing at all), until done or closed. */
  async trickle(res: http.ServerResponse, a: Answer, f: TrickleFault): Promise<void> {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(a.status, headers(a));
    res.flushHeaders();
    if (f.stallAfterHeaders) return this.untilClosed(res);
    const bytes = Buffer.from(a.body);
    const gap = 1000 / (f.bytesPerSecond && f.bytesPerSecond > 0 ? f.bytesPerSecond : 1);
    for (let i = 0; i < bytes.length; i++) {
      await this.sleep(gap);
      if (this.#closed || res.destroyed) return;
      res.write(bytes.subarray(i, i + 1));
    }
    res.end();
  }

  untilClosed(res: http.ServerResponse): Promise<void> {
    return new Promise<void>((resolve) => {
      if (res.destroyed || this.#closed) resolve();
      else res.once('close', () => resolve());
    });
  }

  /**
   * Sleeps until performance.now() reaches `at`. Timers fire on whole milliseconds and a little
   * late (setTimeout(20) fires after 20.2 ms on average here), so the wait is rounded down: the
   * answer leaves within about a millisecond of `at`, on average at it, never a tick late.
   */
  sleepUntil(at: number): Promise<void> {
    const ms = Math.floor(at - performance.now());
    return ms >= 1 ? this.sleep(ms) : Promise.resolve();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve();
      const t = setTimeout(() => {
        this.#sleeps.delete(t);
        resolve();
      }, ms);
      this.#sleeps.set(t, resolve);
    });
  }
}

function headers(a: Answer): Record<string, string | number> {
  return {
    'Content-Type': a.type,
    'Content-Length': Buffer.byteLength(a.body),
    'Cache-Control': 'no-cache',
    Server: 'DirectAdmin Daemon v1.680',
    ...a.headers,
  };
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  if (req.method === 'GET' || req.method === 'HEAD') {
    // Drain anything sent anyway, without waiting for it.
    req.resume();
    return Promise.resolve('');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('aborted')));
  });
}
