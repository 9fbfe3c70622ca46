import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fcSeed } from '../seed.js';
import {
  DirectAdminError,
  UnexpectedAnswer,
  CommandFailed,
  classifyHttp,
  parseAction,
  parseFlag,
  parseKeyValues,
  parseList,
} from '../../src/directadmin/index.js';
import {
  parseDbUsers,
  parseDomainOwners,
  parseFtpList,
  parseFtpShow,
  parseJsonLoginKeys,
  parseLegacyLoginKeys,
  parseLoginUrl,
  parseSessions,
} from '../../src/directadmin/credentials.js';
import { interpretApiAnswer } from '../../src/directadmin/json-api.js';
import { parseFormReference, parseUrlEncoded, escapeRawEntities } from '../../src/directadmin/parse.js';

const C = 'CMD_API_USER_PASSWD';
// A fixed seed keeps CI deterministic; FC_SEED=N replays or explores (the seed is in each suite's title).
const RUNS = { numRuns: 400, seed: fcSeed(20261123) };

/** Bodies that look a little like DirectAdmin answers, then get cut, flipped and padded. */
const seeds = [
  'error=0&text=Password%20Changed&details=',
  'error=1&text=Cannot%20change%20password&details=Password%20is%20too%20short',
  'list%5B%5D=alice&list%5B%5D=bob',
  'valid=1',
  '{"success":"Password Changed","result":""}',
  '{"error":"Cannot change password","result":"x"}',
  '["alice","bob"]',
  '<html><title>DirectAdmin Login</title></html>',
  '',
];
const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.string({ maxLength: 20 }), fc.constantFrom('cut', 'insert', 'append', 'replace'))
  .map(([body, a, b, s, op]) => {
    const i = body.length ? a % body.length : 0;
    const j = body.length ? b % body.length : 0;
    if (op === 'cut') return body.slice(0, i);
    if (op === 'insert') return body.slice(0, i) + s + body.slice(i);
    if (op === 'append') return body + s;
    return body.slice(0, Math.min(i, j)) + s + body.slice(Math.max(i, j));
  });
const binary = fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u).toString('utf8'));
const anyBody = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 }), binary, mutated, fc.json());

function onlyTaxonomy(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof DirectAdminError, `threw something outside the taxonomy: ${String(e)}`);
    return e;
  }
}

describe(`parsers under random and mutated answers (FC_SEED=${RUNS.seed})`, { timeout: 30_000 }, () => {
  it('return a result or a taxonomy error, never anything else', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        onlyTaxonomy(() => parseAction(C, 200, body));
        onlyTaxonomy(() => parseList('CMD_API_SHOW_USERS', 200, body));
        onlyTaxonomy(() => parseKeyValues('CMD_API_SHOW_USER_CONFIG', 200, body));
        onlyTaxonomy(() => parseFlag('CMD_API_VERIFY_PASSWORD', 200, body, 'valid'));
        onlyTaxonomy(() => classifyHttp(C, { status: 200, headers: {}, body }));
      }),
      RUNS,
    );
  });

  it('never call something a success unless it says error=0 or success', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const r = onlyTaxonomy(() => parseAction(C, 200, body));
        if (r instanceof DirectAdminError) return;
        const params = new URLSearchParams(body.trim());
        const json = (() => {
          try {
            return JSON.parse(body.trim()) as Record<string, unknown>;
          } catch {
            return undefined;
          }
        })();
        const saysSuccess =
          (json !== undefined && json !== null && typeof json === 'object' && (typeof json.success === 'string' || json.error === '0' || json.error === 0)) ||
          params.get('error')?.trim() === '0';
        assert.ok(saysSuccess, `reported success for ${JSON.stringify(body)}`);
      }),
      RUNS,
    );
  });

  it('a verification answer is valid only when it says so', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const r = onlyTaxonomy(() => parseFlag('CMD_API_VERIFY_PASSWORD', 200, body, 'valid'));
        if (r === true) assert.match(body, /valid/);
      }),
      RUNS,
    );
  });

  it('an HTTP error status is never a success, whatever the body', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }).filter((s) => s < 200 || s >= 300),
        anyBody,
        (status, body) => {
          assert.ok(classifyHttp(C, { status, headers: { location: '/x' }, body }) instanceof DirectAdminError);
        },
      ),
      RUNS,
    );
  });

  it('truncating a success never yields a different success', () => {
    const full = 'error=0&text=Password%20Changed&details=';
    for (let i = 0; i < full.length; i++) {
      const r = onlyTaxonomy(() => parseAction(C, 200, full.slice(0, i)));
      if (!(r instanceof DirectAdminError)) assert.ok(full.slice(0, i).startsWith('error=0'));
      else assert.ok(r instanceof UnexpectedAnswer || r instanceof CommandFailed);
    }
  });
});

describe(`credential parsers and the JSON API judge under random answers (FC_SEED=${RUNS.seed})`, { timeout: 60_000 }, () => {
  const statuses = fc.constantFrom(200, 204, 400, 401, 403, 404, 409, 430, 490, 491, 492, 500, 502);
  const apiBodies = fc.oneof(
    anyBody,
    fc.constantFrom('{"type":"NOT_FOUND"}', '{"type":"UNAUTHORIZED"}', '{"type":"INTERNAL_ERROR","message":"x"}', '[{"publicID":"p"}]', '<html>404</html>'),
  );

  it('return a result or a taxonomy error, never anything else', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        onlyTaxonomy(() => parseDomainOwners('CMD_API_DOMAIN_OWNERS', 200, body));
        onlyTaxonomy(() => parseFtpList('CMD_API_FTP', 200, body));
        onlyTaxonomy(() => parseFtpShow('CMD_API_FTP_SHOW', 200, body));
        onlyTaxonomy(() => parseLegacyLoginKeys('CMD_API_LOGIN_KEYS', 200, body));
      }),
      RUNS,
    );
  });

  it('a non-2xx JSON API answer is never a success', () => {
    fc.assert(
      fc.property(statuses, apiBodies, fc.constantFrom<'json' | 'none'>('json', 'none'), (status, body, expect) => {
        const r = onlyTaxonomy(() => interpretApiAnswer('GET /api/x', { status, headers: {}, body }, expect));
        if (status < 200 || status >= 300) assert.ok(r instanceof DirectAdminError, `${status} ${JSON.stringify(body)}`);
        if (!(r instanceof DirectAdminError) && r !== undefined) {
          onlyTaxonomy(() => parseSessions('GET /api/sessions', status, r));
          onlyTaxonomy(() => parseJsonLoginKeys('GET /api/login-keys/keys', status, r));
          onlyTaxonomy(() => parseDbUsers('GET /api/db-show/users', status, r));
          onlyTaxonomy(() => parseLoginUrl('POST /api/login-keys/urls', status, r));
        }
      }),
      RUNS,
    );
  });
});

describe(`parseUrlEncoded agrees with URLSearchParams (seed ${RUNS.seed})`, () => {
  // The hand-split fast path must decode every form exactly as the URLSearchParams reference does.
  const pieces = fc.constantFrom(
    'a',
    'list%5B%5D',
    'list[]',
    '=',
    '&',
    '&&',
    '+',
    '%',
    '%2',
    '%41',
    '%E2%82%AC',
    '%C3',
    '%FF',
    '&#49;',
    '%26%2349%3B',
    '?',
    ' ',
    'é',
    '€',
  );
  const forms = fc.oneof(
    fc.array(pieces, { maxLength: 30 }).map((p) => p.join('')),
    fc.string({ maxLength: 200 }),
    mutated,
  );
  it('gives the same fields, in the same order, for any form', () => {
    fc.assert(
      fc.property(forms, (form) => {
        const fast = [...parseUrlEncoded(form)];
        const reference = [...parseFormReference(escapeRawEntities(form).trim())];
        assert.deepEqual(fast, reference);
      }),
      RUNS,
    );
  });
  it('reads a listing of thousands of names', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `user${i}`);
    assert.deepEqual(parseUrlEncoded(names.map((n) => `list%5B%5D=${n}`).join('&')).get('list[]'), names);
  });
});
