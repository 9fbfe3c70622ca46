import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost, parseServerUrl } from '../../src/directadmin/index.js';

describe('parseServerUrl', { timeout: 30_000 }, () => {
  it('reads the da api-url form and strips the credentials from the base URL', () => {
    const u = parseServerUrl('https://admin:K3yK3y@server.example.com:2222');
    assert.deepEqual(u, { baseUrl: 'https://server.example.com:2222', host: 'server.example.com', username: 'admin', secret: 'K3yK3y' });
  });

  it('keeps login-as names and percent-decodes', () => {
    const u = parseServerUrl('https://admin|fred:a%40b@h:2222/');
    assert.equal(u.username, 'admin|fred');
    assert.equal(u.secret, 'a@b');
    assert.equal(u.baseUrl, 'https://h:2222');
  });

  it('defaults to port 2222 but keeps an explicit one, even the scheme default', () => {
    assert.equal(parseServerUrl('https://h').baseUrl, 'https://h:2222');
    assert.equal(parseServerUrl('https://h:443').baseUrl, 'https://h:443');
    assert.equal(parseServerUrl('http://127.0.0.1:8080/da/').baseUrl, 'http://127.0.0.1:8080/da');
    assert.equal(parseServerUrl('https://[::1]:2222').host, '::1');
  });

  it('refuses bad input without echoing it', () => {
    for (const bad of ['server.example.com', 'ftp://h', 'https://admin:SECRETX@h:2222/?a=1', 'https://h:99999']) {
      assert.throws(
        () => parseServerUrl(bad),
        (e: unknown) => e instanceof Error && !e.message.includes('SECRETX'),
        bad,
      );
    }
  });
});

describe('isLoopbackHost', { timeout: 30_000 }, () => {
  it('knows loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['10.0.0.1', 'example.com', '128.0.0.1', 'localhost.example.com', '127.0.0.1.nip.io']) assert.equal(isLoopbackHost(h), false, h);
  });
});
