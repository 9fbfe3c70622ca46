import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { fcSeed } from '../seed.js';
import { formatRowReference, formatRows, REPORT_COLUMNS, type ReportRow, type ReportStatus } from '../../src/rotation/report.js';

const RUNS = { numRuns: 500, seed: fcSeed(20261202) };
// Cells as a hostile server or an odd password could make them: formula starts, quotes, commas, line breaks, control characters.
const tricky = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('=1+1', '+x', '-x', '@x', '\tx', '\rx', 'a,b', 'say "hi"', 'line\nbreak', 'nul\u0000', 'del\u007f', 'é€', ''),
);
const row = fc.record(
  {
    server: tricky,
    username: tricky,
    kind: fc.constantFrom('account', 'mailbox', 'ftp'),
    credential: tricky,
    status: fc.constantFrom<ReportStatus>('rotated', 'failed', 'unknown', 'skipped', 'not-started', 'planned', 'revoked'),
    password: fc.option(tricky, { nil: undefined }),
    attempts: fc.nat(9),
    verified: fc.boolean(),
    error: fc.option(tricky, { nil: undefined }),
    startedAt: fc.option(tricky, { nil: undefined }),
    finishedAt: fc.option(tricky, { nil: undefined }),
    details: fc.option(tricky, { nil: undefined }),
  },
  { requiredKeys: ['server', 'username', 'kind', 'credential', 'status', 'attempts', 'verified'] },
) as fc.Arbitrary<ReportRow>;

describe(`report lines (seed ${RUNS.seed})`, () => {
  it('the one-pass line equals the cell-by-cell reference for any row', () => {
    fc.assert(
      fc.property(row, (r) => assert.equal(formatRows([r], false), formatRowReference(r))),
      RUNS,
    );
  });
  it('every line parses back as one record of every column, with no formula left live', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 5 }), (rows) => {
        const records = parse<Record<string, string>>(formatRows(rows, true), { columns: true });
        assert.equal(records.length, rows.length);
        for (const rec of records) {
          assert.deepEqual(Object.keys(rec), [...REPORT_COLUMNS]);
          for (const v of Object.values(rec)) assert.doesNotMatch(v, /^[=+\-@\t\r]|[\u0000-\u001f\u007f]/);
        }
      }),
      RUNS,
    );
  });
});
