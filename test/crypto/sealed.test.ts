import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
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

  it('many seals: each opens under its own context only, and no two are alike (fresh nonces)', async () => {
    // How fast sealing is belongs to the benchmark; this checks what 2 000 seals must all hold.
    const a = await generateKeyPair();
    const { sealer } = await SecretSealer.create([a.recipient]);
    const n = 2_000;
    const pw = 'Abcdefghijklmnopqrstuv';
    const out = Array.from({ length: n }, (_, i) => sealer.seal(pw, `account:user${i}`));
    assert.equal(new Set(out).size, n, 'every seal differs, the same password included');
    for (let i = 0; i < n; i++) {
      assert.ok(!out[i]!.includes(pw), 'the password is not in the sealed text');
      assert.equal(sealer.unseal(out[i]!, `account:user${i}`), pw);
    }
    for (const i of [0, n / 2, n - 1]) assert.throws(() => sealer.unseal(out[i]!, `account:user${(i + 1) % n}`), SealedSecretError);
  });
});
