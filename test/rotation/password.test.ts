import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALNUM, DIGITS, LOWER, SAFE_SYMBOLS, UPPER, generatePassword, policyViolation } from '../../src/rotation/password.js';

describe('generatePassword', { timeout: 30_000 }, () => {
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
      assert.ok(
        [...pw].some((c) => SAFE_SYMBOLS.includes(c)),
        pw,
      );
      assert.ok(ALNUM.includes(pw[0]!), pw);
      assert.equal(policyViolation(pw, { length: 12, symbols: true }), undefined);
    }
    assert.equal(generatePassword({ length: 128, symbols: false }).length, 128);
  });

  it('refuses lengths outside 12..128', () => {
    for (const length of [11, 129, 0, 12.5]) assert.throws(() => generatePassword({ length, symbols: false }), RangeError);
  });

  it('draws characters uniformly within each class (chi-square)', () => {
    // Redrawing passwords that miss a class slightly favours the rarer class (digits), so compare
    // within each class, where rejection leaves the distribution exactly uniform. Bounds sit near
    // p = 1e-6, so a correct generator fails about once in a million runs.
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      for (const c of generatePassword().slice(1)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    assert.equal(counts.size, 62);
    const classes: Array<[string, number]> = [
      [UPPER, 75],
      [LOWER, 75],
      [DIGITS, 45],
    ];
    for (const [set, bound] of classes) {
      const total = [...set].reduce((n, c) => n + (counts.get(c) ?? 0), 0);
      const expected = total / set.length;
      let chi = 0;
      for (const c of set) chi += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
      assert.ok(chi < bound, `chi-square ${chi.toFixed(1)} over ${set}`);
    }
  });
});

describe('policyViolation', { timeout: 30_000 }, () => {
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
