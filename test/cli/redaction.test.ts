import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecretRegistry } from '../../src/log.js';

describe('redaction never hits ordinary words', () => {
  it('a short secret that is an ordinary word stays in sentences, and is redacted where it stands as a value', () => {
    const r = new SecretRegistry();
    r.add('wrong');
    assert.equal(r.scrub('never retry a wrong secret; wrongly'), 'never retry a wrong secret; wrongly');
    assert.equal(r.scrub('pw=wrong https://admin:wrong@host "wrong"'), 'pw=[REDACTED] https://admin:[REDACTED]@host "[REDACTED]"');
  });

  it('a secret of 8+ characters is redacted wherever it appears, percent-encoded too', () => {
    const r = new SecretRegistry();
    r.add('Xy$3kLm9pQ');
    assert.equal(r.scrub('a Xy$3kLm9pQ b abcXy$3kLm9pQdef Xy%243kLm9pQ'), 'a [REDACTED] b abc[REDACTED]def [REDACTED]');
  });
});
