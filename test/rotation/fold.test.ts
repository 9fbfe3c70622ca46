/**
 * A credential's state is the fold of all its journal records in order: an intent written after an
 * outcome (a new attempt after `not-sent` or a policy refusal) counts. Property tests over
 * arbitrary record sequences, checked where it matters: the report a resume rebuilds and the work
 * it takes on.
 */
import { accountCredentials, journalHeader } from './journal-fixture.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  isSettled,
  parseJournal,
  unsettled,
  type IntentRecord,
  type JournalHeader,
  type OutcomeRecord,
  type OutcomeStatus,
} from '../../src/rotation/journal.js';
import { rowsFromJournal } from '../../src/rotation/report.js';

const USERS = ['amy', 'bob', 'cat'];
const id = (u: string) => `account:${u}:${u}`;
const header = journalHeader(accountCredentials(USERS));

const STATUSES: OutcomeStatus[] = ['rotated', 'revoked', 'failed', 'unknown', 'not-sent'];
const record: fc.Arbitrary<IntentRecord | OutcomeRecord> = fc.oneof(
  fc
    .record({ u: fc.constantFrom(...USERS), pw: fc.stringMatching(/^[A-Za-z0-9]{8,12}$/) })
    .map(({ u, pw }): IntentRecord => ({ t: 'intent', c: id(u), pw, at: 'x' })),
  fc
    .record({ u: fc.constantFrom(...USERS), status: fc.constantFrom(...STATUSES), systematic: fc.boolean() })
    .map(({ u, status, systematic }): OutcomeRecord => ({
      t: 'outcome',
      c: id(u),
      status,
      attempts: 1,
      verified: false,
      startedAt: 'a',
      finishedAt: 'b',
      ...(systematic && status === 'failed' ? { systematic } : {}),
    })),
);
/** Resume and end marks anywhere: they never move a credential. */
const line = fc.oneof(
  { weight: 6, arbitrary: record },
  { weight: 1, arbitrary: fc.constantFrom({ t: 'resume', at: 'x', pid: 1 } as const, { t: 'end', at: 'x', pid: 1 } as const) },
);

function journalOf(records: readonly object[]): string {
  return [header, ...records].map((r) => JSON.stringify(r) + '\n').join('');
}

/** The reference: walk a credential's own records in order. */
function reference(records: readonly object[], c: string): { intent?: IntentRecord; outcome?: OutcomeRecord; last?: IntentRecord | OutcomeRecord } {
  let intent: IntentRecord | undefined;
  let outcome: OutcomeRecord | undefined;
  let last: IntentRecord | OutcomeRecord | undefined;
  for (const r of records as Array<IntentRecord | OutcomeRecord | { t: string }>) {
    if (!('c' in r) || r.c !== c) continue;
    last = r;
    if (r.t === 'intent') {
      intent = r;
      outcome = undefined;
    } else outcome = r;
  }
  return { intent, outcome, last };
}

describe('a credential is the fold of its records', { timeout: 60_000 }, () => {
  it('pending intent and outcome follow every record in order; other credentials never matter', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (records) => {
        const state = parseJournal(journalOf(records));
        for (const u of USERS) {
          const c = id(u);
          const ref = reference(records, c);
          assert.equal(state.intents.get(c)?.pw, ref.intent?.pw, `${c}: intent`);
          assert.deepEqual(state.outcomes.get(c), ref.outcome, `${c}: outcome`);
          // Its own records alone give the same state.
          const alone = parseJournal(journalOf(records.filter((r) => !('c' in r) || r.c === c)));
          assert.deepEqual(alone.outcomes.get(c), state.outcomes.get(c));
          assert.equal(alone.intents.get(c)?.pw, state.intents.get(c)?.pw);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the rebuilt report and the resume work: a last intent is an unknown row carrying its secret; a settled outcome is never redone', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (records) => {
        const state = parseJournal(journalOf(records));
        const rows = rowsFromJournal(state, { includePending: true, secretOf: (i) => i.pw });
        const open = new Set(unsettled(state).map((c) => `${c.kind}:${c.owner}:${c.name}`));
        for (const u of USERS) {
          const c = id(u);
          const { last, intent } = reference(records, c);
          const row = rows.find((r) => r.username === u)!;
          if (last?.t === 'intent') {
            // Written after whatever came before (a not-sent, a refusal): it may be live.
            assert.equal(row.status, 'unknown', `${c}: a last intent is unknown, never not-started`);
            assert.equal(row.password, last.pw, `${c}: and carries its secret`);
            assert.ok(open.has(c), `${c}: a resume settles it`);
          } else if (last?.t === 'outcome') {
            assert.equal(open.has(c), !isSettled(last), `${c}: settled exactly when its last outcome settles it`);
            if (last.status === 'not-sent') assert.equal(row.status, 'not-started');
            else {
              assert.equal(row.status, last.status);
              if (last.status === 'rotated' || last.status === 'unknown') assert.equal(row.password, intent?.pw, `${c}: the secret of its last intent`);
              if (last.status === 'failed') assert.equal(row.password, undefined);
            }
          } else {
            assert.equal(row.status, 'not-started');
            assert.ok(open.has(c));
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the case that lost passwords: not-sent, then a resume journals an intent and is killed: the intent is live', () => {
    const records = [
      { t: 'intent', c: id('amy'), pw: 'OldIntent111', at: 'x' },
      { t: 'outcome', c: id('amy'), status: 'not-sent', attempts: 0, verified: false, startedAt: 'a', finishedAt: 'b' },
      { t: 'resume', at: 'x', pid: 2 },
      { t: 'intent', c: id('amy'), pw: 'NewIntent222', at: 'y' },
    ];
    const state = parseJournal(journalOf(records));
    assert.equal(state.outcomes.get(id('amy')), undefined);
    const row = rowsFromJournal(state, { includePending: true, secretOf: (i) => i.pw }).find((r) => r.username === 'amy')!;
    assert.equal(row.status, 'unknown');
    assert.equal(row.password, 'NewIntent222');
  });
});

describe('reading a damaged journal', () => {
  const intent = (u: string, pw: string) => ({ t: 'intent', c: id(u), pw, at: 'x' });
  const outcome = (u: string, status: OutcomeStatus) => ({ t: 'outcome', c: id(u), status, attempts: 1, verified: true, startedAt: 'a', finishedAt: 'b' });

  it('refuses a damaged line, naming it and --salvage; salvage keeps every whole record and says what it could not read', () => {
    const good = journalOf([intent('amy', 'PwAmy11111'), intent('bob', 'PwBob22222'), outcome('amy', 'rotated')]);
    const lines = good.split('\n');
    lines[2] = 'z' + lines[2]!.slice(1); // the flipped first byte of bob's intent
    lines.splice(4, 0, JSON.stringify({ t: 'outcome', c: id('cat'), status: 'bogus' }));
    const text = lines.join('\n');
    assert.throws(() => parseJournal(text, 'j'), /j: line 3 is not valid JSON; the journal is damaged \(2 lines\): `da-rotate resume j --salvage`/);
    const s = parseJournal(text, 'j', { salvage: true });
    assert.deepEqual(
      s.damaged.map((d) => [d.line, d.reason, d.credential]),
      [
        [3, 'not valid JSON', id('bob')],
        [5, 'an outcome with an unknown status', id('cat')],
      ],
    );
    assert.equal(s.intents.get(id('amy'))?.pw, 'PwAmy11111');
    assert.equal(s.outcomes.get(id('amy'))?.status, 'rotated');
    assert.equal(s.intents.has(id('bob')), false);
    // Once a salvage is journaled, the journal reads again, the damage still listed (acknowledged).
    const acknowledged = parseJournal(text + JSON.stringify({ t: 'salvaged', lines: [3, 5], at: 'x' }) + '\n', 'j');
    assert.deepEqual(
      acknowledged.damaged.map((d) => [d.line, d.acknowledged]),
      [
        [3, true],
        [5, true],
      ],
    );
    // A damaged header is beyond salvage: the credential list and its checksum are gone.
    assert.throws(() => parseJournal('z' + good.slice(1), 'j', { salvage: true }), /line 1 \(the header\) is not valid JSON/);
  });

  it('a supersession mark and a resume policy are read', () => {
    const s = parseJournal(
      journalOf([
        { t: 'resume', at: 'x', pid: 1, policy: { length: 30, symbols: true } },
        { t: 'superseded', by: '/later.journal.jsonl', at: 'y' },
      ]),
    );
    assert.equal(s.supersededBy, '/later.journal.jsonl');
    assert.deepEqual(s.policy, { length: 30, symbols: true });
  });
});

describe('prune and a journal that never sent anything', () => {
  it('a header-only journal (a run stopped before its first change) is not protected; one with an unsettled intent is', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { journalProtection } = await import('../../src/rotation/prune.js');
    const d = mkdtempSync(join(tmpdir(), 'da-rotate-fold-'));
    try {
      const headerOnly = join(d, 'a.journal.jsonl');
      writeFileSync(headerOnly, journalOf([]), { mode: 0o600 });
      assert.equal(journalProtection(headerOnly), undefined);
      const sent = join(d, 'b.journal.jsonl');
      writeFileSync(sent, journalOf([{ t: 'intent', c: id('amy'), pw: 'PwAmy11111', at: 'x' }]), { mode: 0o600 });
      assert.equal(journalProtection(sent)?.unsettled, 3);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('listing failures in the journal', () => {
  it('a resume rebuilds the rows the run wrote: the one credential named, a skipped kind skipped', () => {
    const withFailures: JournalHeader = {
      ...header,
      listingFailures: [
        { owner: 'amy', kind: 'email', error: 'could not list' },
        { owner: 'bob', kind: 'ftp', name: '../../etc', error: 'a name DirectAdmin never allows' },
        { owner: 'cat', kind: 'session', status: 'skipped', error: 'not supported by this server' },
      ],
    };
    const state = parseJournal(JSON.stringify(withFailures) + '\n');
    const rows = rowsFromJournal(state, { includePending: true, secretOf: () => undefined }).filter((r) => r.kind !== 'account');
    assert.deepEqual(
      rows.map((r) => [r.username, r.kind, r.credential, r.status]),
      [
        ['amy', 'email', '*', 'failed'],
        ['bob', 'ftp', '../../etc', 'failed'],
        ['cat', 'session', '*', 'skipped'],
      ],
    );
  });
});
