import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { generateKeyPair, isSealed, SealedSecretError, SecretSealer } from '../../src/crypto/index.js';
import { UsageError } from '../../src/errors.js';

describe('SecretSealer', { timeout: 30_000 }, () => {
  it('round-trips through a wrapped key opened by another identity list', async () => {
    const a = await generateKeyPair();
    const b = await generateKeyPair();
    const { sealer, wrappedKey } = await SecretSealer.create([a.recipient, b.recipient]);
    assert.match(wrappedKey, /^[A-Za-z0-9+/]+={0,2}$/);
    const sealed = sealer.seal('Pässwörd-1234567890', 'account:fred');
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
    assert.ok(isSealed(sealed));
    assert.ok(!sealed.includes('1234567890'));
    assert.notEqual(sealer.seal('same', 'x'), sealer.seal('same', 'x'), 'a fresh nonce each time');

    const reopened = await SecretSealer.open(wrappedKey, [b.identity]);
    assert.equal(reopened.unseal(sealed, 'account:fred'), 'Pässwörd-1234567890');
    assert.equal(reopened.unseal(reopened.seal('')), '');
  });

  it('detects tampering, a moved value, and a foreign key', async () => {
    const a = await generateKeyPair();
    const { sealer, wrappedKey } = await SecretSealer.create([a.recipient]);
    const sealed = sealer.seal('Secret-abc', 'account:fred');
    const body = Buffer.from(sealed.slice(3), 'base64url');
    for (const i of [0, 12, body.length - 1]) {
      const t = Buffer.from(body);
      t[i]! ^= 0x80;
      assert.throws(() => sealer.unseal('v1.' + t.toString('base64url'), 'account:fred'), SealedSecretError, `byte ${i}`);
    }
    assert.throws(() => sealer.unseal(sealed, 'account:bob'), /failed authentication/);
    assert.throws(() => sealer.unseal('v1.AAAA', 'account:fred'), /truncated/);
    assert.throws(() => sealer.unseal('Secret-abc'), /not a sealed secret/);

    const other = await SecretSealer.create([a.recipient]);
    assert.throws(() => other.sealer.unseal(sealed, 'account:fred'), SealedSecretError);

    const stranger = await generateKeyPair();
    await assert.rejects(
      SecretSealer.open(wrappedKey, [stranger.identity]),
      (e: unknown) => e instanceof UsageError && /none of the --identity keys/.test(e.message),
    );
    await assert.rejects(SecretSealer.open('not base64!', [a.identity]), SealedSecretError);
  });

  it('costs microseconds per seal (printed, not asserted)', async (t) => {
    const a = await generateKeyPair();
    const { sealer } = await SecretSealer.create([a.recipient]);
    const n = 20_000;
    const pw = 'Abcdefghijklmnopqrstuv';
    for (let i = 0; i < 1000; i++) sealer.unseal(sealer.seal(pw, 'warm'), 'warm');
    let start = performance.now();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(sealer.seal(pw, `account:user${i}`));
    const sealUs = ((performance.now() - start) * 1000) / n;
    start = performance.now();
    for (let i = 0; i < n; i++) sealer.unseal(out[i]!, `account:user${i}`);
    const unsealUs = ((performance.now() - start) * 1000) / n;
    t.diagnostic(`seal ${sealUs.toFixed(2)} us, unseal ${unsealUs.toFixed(2)} us per 22-character password (n=${n})`);
    assert.equal(out.length, n);
  });
});
