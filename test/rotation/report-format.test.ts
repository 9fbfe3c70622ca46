import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { fcSeed } from '../seed.js';
import { formatRows, type ReportRow, type ReportStatus } from '../../src/rotation/report.js';

/** The documented header, written out here (not read from the module that writes it). */
const HEADER = ['server', 'username', 'kind', 'credential', 'status', 'password', 'attempts', 'verified', 'error', 'started_at', 'finished_at', 'details'];
/** A cell as it must read back: control characters as \\xNN, a formula start defused with a quote. */
const expectedCell = (v: string): string => {
  const shown = v.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return /^[=+\-@\t\r]/.test(shown) ? `'${shown}` : shown;
};

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

const base: ReportRow = { server: 's1', username: 'bob', kind: 'email', credential: 'info@x.test', status: 'rotated', attempts: 1, verified: true };

describe(`report lines (seed ${RUNS.seed})`, () => {
  it('writes known rows byte for byte', () => {
    assert.equal(formatRows([], true), HEADER.join(',') + '\n');
    assert.equal(formatRows([{ ...base, password: 'p4ss' }], false), 's1,bob,email,info@x.test,rotated,p4ss,1,yes,,,,\n');
    assert.equal(
      formatRows([{ ...base, status: 'failed', verified: false, attempts: 3, password: 'a,"b"', error: 'bad\nline', details: '=cmd()' }], false),
      's1,bob,email,info@x.test,failed,"a,""b""",3,no,bad\\x0aline,,,\'=cmd()\n',
    );
  });
  it('every line parses back as one record of every column holding the cell it was given', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 5 }), (rows) => {
        const text = formatRows(rows, true);
        assert.equal(text.split('\n').length, rows.length + 2, 'one line per row, after the header');
        const records: string[][] = parse(text);
        assert.deepEqual(records[0], HEADER);
        assert.equal(records.length, rows.length + 1);
        rows.forEach((r, i) => {
          const rec = records[i + 1]!;
          const given = [
            r.server,
            r.username,
            r.kind,
            r.credential,
            r.status,
            r.password ?? '',
            String(r.attempts),
            r.verified ? 'yes' : 'no',
            r.error ?? '',
            r.startedAt ?? '',
            r.finishedAt ?? '',
            r.details ?? '',
          ];
          assert.deepEqual(rec, given.map(expectedCell));
          for (const v of rec) assert.doesNotMatch(v, /^[=+\-@\t\r]|[\u0000-\u001f\u007f]/);
        });
      }),
      RUNS,
    );
  });
});
