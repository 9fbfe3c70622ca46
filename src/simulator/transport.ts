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
   * How late answers have left against their due time, smoothed (ms). Timers fire on whole
   * milliseconds of a clock libuv reads once per loop turn, so a plain setTimeout is up to a
   * millisecond early or late at random, and late on average (20.6 ms answers for a 20 ms setting,
   * 19.3 ms when rounded down). Taking the measured lateness off the next waits makes a "20 ms"
   * server answer in 20 ms on average (stats.answerMsTotal / stats.answered shows it), which is
   * what the benchmark's ideal N x L / c assumes; any one answer is still within about 1 ms of it.
   */
  #lateness = 0;

  /** Sleeps until about performance.now() = `at` (see #lateness). */
  sleepUntil(at: number): Promise<void> {
    const ms = Math.round(at - performance.now() - this.#lateness);
    return ms >= 1 ? this.sleep(ms) : Promise.resolve();
  }

  /** An answer due at `due` has just been sent: learn how late it was (bounded: a starved machine is not made up for). */
  answered(due: number): void {
    this.#lateness = Math.max(-2, Math.min(2, this.#lateness + 0.05 * (performance.now() - due)));
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
