import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALNUM, SAFE_SYMBOLS, generatePassword, policyViolation } from '../../src/rotation/password.js';

describe('generatePassword', () => {
  it('makes 22 alphanumerics with upper, lower and digit by default', () => {
    for (let i = 0; i < 500; i++) {
      const pw = generatePassword();
      assert.match(pw, /^[A-Za-z0-9]{22}$/);
      assert.match(pw, /[A-Z]/);
      assert.match(pw, /[a-z]/);
      assert.match(pw, /[0-9]/);
    }
  });

  it('honours --length and --symbols, never starting with a symbol', () => {
    for (let i = 0; i < 300; i++) {
      const pw = generatePassword({ length: 12, symbols: true });
      assert.equal(pw.length, 12);
      assert.ok([...pw].some((c) => SAFE_SYMBOLS.includes(c)), pw);
      assert.ok(ALNUM.includes(pw[0]!), pw);
      assert.equal(policyViolation(pw, { length: 12, symbols: true }), undefined);
    }
    assert.equal(generatePassword({ length: 128, symbols: false }).length, 128);
  });

  it('refuses lengths outside 12..128', () => {
    for (const length of [11, 129, 0, 12.5]) assert.throws(() => generatePassword({ length, symbols: false }), RangeError);
  });

  it('draws characters uniformly (chi-square over 62 symbols)', () => {
    // 20 000 passwords x 21 free positions; the first position and the class rejection shift the
    // distribution only slightly, so compare positions 1..21 against uniform with a loose bound.
    const counts = new Map<string, number>();
    let n = 0;
    for (let i = 0; i < 20_000; i++) {
      const pw = generatePassword();
      for (const c of pw.slice(1)) {
        counts.set(c, (counts.get(c) ?? 0) + 1);
        n++;
      }
    }
    assert.equal(counts.size, 62);
    const expected = n / 62;
    let chi = 0;
    for (const c of ALNUM) chi += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
    // 61 degrees of freedom: p = 1e-6 is about 125. A modulo-biased generator scores in the thousands.
    assert.ok(chi < 125, `chi-square ${chi.toFixed(1)}`);
  });
});

describe('policyViolation', () => {
  const p = { length: 22, symbols: false };
  it('explains what is wrong', () => {
    assert.match(policyViolation('Short1a', p)!, /shorter/);
    assert.match(policyViolation('alllowercase1234', p)!, /upper-case/);
    assert.match(policyViolation('ALLUPPERCASE1234', p)!, /lower-case/);
    assert.match(policyViolation('NoDigitsAtAllHere', p)!, /digit/);
    assert.match(policyViolation('Has space 12345', p)!, /character outside/);
    assert.match(policyViolation('Has&amp1234567', p)!, /character outside/);
    assert.match(policyViolation('-Leading1234abc', p)!, /start with/);
    assert.match(policyViolation('NoSymbols123456', { length: 22, symbols: true })!, /special/);
    assert.equal(policyViolation('Temporary2024Pass', p), undefined);
  });
});
