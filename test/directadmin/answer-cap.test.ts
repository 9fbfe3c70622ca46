/**
 * Issue 25: an answer over the size cap is refused without being buffered whole, and never asked
 * for again (it would be as large the next time): one request, not retries + 1.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DirectAdminClient, UnexpectedAnswer } from '../../src/directadmin/index.js';
import { withReadRetries } from '../../src/rotation/retry.js';

describe('answers over the size cap', { timeout: 30_000 }, () => {
  let requests = 0;
  let bytesSent = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.write('list[]=');
    // Streams on until the client hangs up: an 80 MB answer, as far as the client can tell.
    const timer = setInterval(() => {
      const chunk = 'a'.repeat(64 * 1024);
      bytesSent += chunk.length;
      res.write(chunk);
    }, 2);
    res.on('close', () => clearInterval(timer));
  });
  let base = '';
  before(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => ((base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`), r()))));
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('is refused once, not retried', async () => {
    const c = new DirectAdminClient({ baseUrl: base, username: 'admin', secret: 'S3cretAdminPw', timeoutMs: 10_000, maxBodyBytes: 512 * 1024 });
    try {
      await assert.rejects(
        withReadRetries(() => c.showUsers(), { retries: 3, retryDelayMs: 1, signal: new AbortController().signal }),
        (e: unknown) => {
          const last = e instanceof UnexpectedAnswer ? e : (e as { last?: unknown }).last;
          assert.ok(last instanceof UnexpectedAnswer, String(e));
          assert.match(last.message, /larger than/);
          assert.equal(last.retryable, false);
          return true;
        },
      );
      assert.equal(requests, 1, 'asked once');
      assert.ok(bytesSent < 64 * 1024 * 1024, 'not downloaded whole');
    } finally {
      await c.close();
    }
  });
});
