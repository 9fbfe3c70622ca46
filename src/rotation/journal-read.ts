/**
 * Reading a journal: every record folded in order into each credential's state (an intent after an
 * outcome is a new attempt), damaged lines refused or, under salvage, read past and named.
 * Re-exported by journal.ts.
 */
import { UsageError } from '../errors.js';
import { readRegularFileSync } from '../files.js';
import { credentialId, type Credential } from '../kinds/kind.js';
import {
  hashCredentials,
  JOURNAL_VERSION,
  JournalError,
  type IntentRecord,
  type JournalHeader,
  type JournalRecord,
  type OutcomeRecord,
  type OutcomeStatus,
} from './journal.js';

export interface DamagedLine {
  /** 1-based line number. */
  line: number;
  reason: string;
  /** The credential id the line seems to name, when that much can be read. */
  credential?: string;
  /** An earlier salvage already read past it (journaled). */
  acknowledged?: boolean;
}

export interface JournalState {
  header: JournalHeader;
  /** The pending intent of each credential: its last intent, unless an outcome came after it. */
  intents: Map<string, IntentRecord>;
  /** The last outcome of each credential, dropped again by an intent written after it (a new attempt). */
  outcomes: Map<string, OutcomeRecord>;
  ended: boolean;
  /** True when the last line was cut short (the process died mid-write); it is ignored. */
  truncatedTail: boolean;
  /** The journal of the later run of this server that superseded this one, if any. */
  supersededBy?: string;
  /** Lines that could not be read: read past under salvage, or acknowledged by an earlier salvage. */
  damaged: DamagedLine[];
  /** The password policy a resume set last (its --length/--symbols), over the header's. */
  policy?: { length: number; symbols: boolean };
}

/** A version 1 journal (account passwords only) read as version 2. */
function upgradeV1(rec: JournalHeader): JournalHeader {
  const accounts = (rec as unknown as { accounts?: string[] }).accounts ?? [];
  const credentials = accounts.map((u): Credential => ({ kind: 'account', owner: u, name: u }));
  return { ...rec, v: JOURNAL_VERSION, options: { ...rec.options, include: ['account'] }, credentials, credentialsSha256: hashCredentials(credentials) };
}

function v1Id(rec: { c?: string; u?: string }): string {
  return rec.c ?? `account:${rec.u}:${rec.u}`;
}

const OUTCOME_STATUSES: ReadonlySet<string> = new Set<OutcomeStatus>(['rotated', 'revoked', 'failed', 'unknown', 'not-sent']);

/** The one place a credential's state moves: its records folded in journal order. */
export function foldRecord(intents: Map<string, IntentRecord>, outcomes: Map<string, OutcomeRecord>, rec: IntentRecord | OutcomeRecord): void {
  if (rec.t === 'intent') {
    // A new attempt: whatever an earlier outcome said (not-sent, a policy refusal) is history now,
    // and this intent's secret may be live until an outcome says otherwise.
    intents.set(rec.c, rec);
    outcomes.delete(rec.c);
  } else {
    outcomes.set(rec.c, rec);
  }
}

/** Why a line is not a record we can use, or undefined when it is one. */
function problemOf(rec: unknown): string | undefined {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return 'not a record';
  const r = rec as Record<string, unknown>;
  switch (r.t) {
    case 'intent':
      if (typeof r.c !== 'string' && typeof r.u !== 'string') return 'an intent without its credential';
      if (r.pw !== undefined && typeof r.pw !== 'string') return 'an intent with a damaged secret';
      return undefined;
    case 'outcome':
      if (typeof r.c !== 'string' && typeof r.u !== 'string') return 'an outcome without its credential';
      if (typeof r.status !== 'string' || !OUTCOME_STATUSES.has(r.status)) return 'an outcome with an unknown status';
      return undefined;
    case 'end':
    case 'resume':
      return undefined;
    case 'superseded':
      return typeof r.by === 'string' ? undefined : 'a supersession mark without its run';
    case 'salvaged':
      return Array.isArray(r.lines) ? undefined : 'a salvage mark without its lines';
    case 'header':
      return 'a second header';
    default:
      return 'an unknown record type';
  }
}

function credentialNamedIn(line: string): string | undefined {
  const m = /"c":("(?:[^"\\]|\\.)*")/.exec(line);
  if (!m) return undefined;
  try {
    return JSON.parse(m[1]!) as string;
  } catch {
    return undefined;
  }
}

export interface ParseOptions {
  /** Read past damaged lines (keeping every whole record) instead of refusing the journal. */
  salvage?: boolean;
}

export function parseJournal(text: string, path = 'journal', options: ParseOptions = {}): JournalState {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let header: JournalHeader | undefined;
  const intents = new Map<string, IntentRecord>();
  const outcomes = new Map<string, OutcomeRecord>();
  let ended = false;
  let truncatedTail = false;
  let supersededBy: string | undefined;
  let policy: { length: number; symbols: boolean } | undefined;
  const damaged: DamagedLine[] = [];
  const acknowledged = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let rec: JournalRecord;
    try {
      rec = JSON.parse(line) as JournalRecord;
    } catch {
      if (i === lines.length - 1 && !text.endsWith('\n')) {
        truncatedTail = true;
        break;
      }
      if (i === 0) throw new JournalError(`${path}: line 1 (the header) is not valid JSON; the journal is damaged beyond salvage`);
      damaged.push({ line: i + 1, reason: 'not valid JSON', ...optionalCredential(line) });
      continue;
    }
    if (i === 0) {
      if (rec?.t !== 'header') throw new JournalError(`${path}: not a da-rotate journal (no header on line 1)`);
      if (rec.v === 1) header = upgradeV1(rec);
      else if (rec.v === JOURNAL_VERSION) header = rec;
      else throw new JournalError(`${path}: journal version ${rec.v} is not supported`);
      continue;
    }
    const problem = problemOf(rec);
    if (problem) {
      damaged.push({ line: i + 1, reason: problem, ...optionalCredential(line) });
      continue;
    }
    switch (rec.t) {
      case 'intent':
      case 'outcome':
        foldRecord(intents, outcomes, { ...rec, c: v1Id(rec) });
        break;
      case 'end':
        ended = true;
        break;
      case 'resume':
        ended = false;
        if (rec.policy) policy = rec.policy;
        break;
      case 'superseded':
        supersededBy = rec.by;
        break;
      case 'salvaged':
        for (const n of rec.lines) acknowledged.add(n);
        break;
      case 'header':
        break; // problemOf refused it: only line 1 is a header
    }
  }
  if (!header) throw new JournalError(`${path}: the journal is empty`);
  if (hashCredentials(header.credentials) !== header.credentialsSha256) {
    throw new JournalError(`${path}: the credential list does not match its checksum; the journal was altered`);
  }
  const unread = damaged.filter((d) => !acknowledged.has(d.line));
  if (unread.length > 0 && !options.salvage) {
    const first = unread[0]!;
    throw new JournalError(
      `${path}: line ${first.line} is ${first.reason === 'not valid JSON' ? 'not valid JSON' : first.reason}; the journal is damaged (${unread.length} line${unread.length === 1 ? '' : 's'}): \`da-rotate resume ${path} --salvage\` keeps every whole record and says what it could not read`,
    );
  }
  for (const d of damaged) if (acknowledged.has(d.line)) d.acknowledged = true;
  return { header, intents, outcomes, ended, truncatedTail, ...(supersededBy ? { supersededBy } : {}), damaged, ...(policy ? { policy } : {}) };
}

function optionalCredential(line: string): { credential?: string } {
  const c = credentialNamedIn(line);
  return c === undefined ? {} : { credential: c };
}

export function readJournal(path: string, options: ParseOptions = {}): JournalState {
  let text: string;
  try {
    // Only a regular file, of bounded size: /dev/zero or a FIFO is refused at once (files.ts).
    text = readRegularFileSync(path).toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw new JournalError(e.message);
    throw new JournalError(`cannot read the journal ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseJournal(text, path, options);
}

/** Settled credentials are never touched again; everything else is work for a resume. */
export function isSettled(outcome: OutcomeRecord | undefined): boolean {
  if (outcome === undefined) return false;
  return outcome.status === 'rotated' || outcome.status === 'revoked' || (outcome.status === 'failed' && !outcome.systematic);
}

/** Credentials of a journal that a resume still has to settle. */
export function unsettled(state: JournalState): Credential[] {
  return state.header.credentials.filter((c) => !isSettled(state.outcomes.get(credentialId(c))));
}
