/**
 * Which journal was the last run against a server, kept beside the server's lock in the state
 * directory. `rotate` reads it so an interrupted run is never silently left behind: its unsettled
 * credentials may hold live secrets that only its journal knows. Supersession: a later run marks
 * the journal it follows (`{"t":"superseded","by":...}`), and `resume`, `notify` and `verify`
 * refuse a journal that a later run of its server superseded.
 */
import { readFileSync } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { errnoOf, FileWriteFailed, replaceFile } from '../files.js';
import type { RunContext } from './skeleton.js';
import { JournalError, JournalWriter, readJournal, unsettled, type JournalState } from './journal.js';
import { acquireLock, LockHeld, lockPathForServer } from './lock.js';
import { truthMsg } from './truth-messages.js';

export function lastRunPathFor(stateDir: string, server: string): string {
  return lockPathForServer(stateDir, server).replace(/\.lock$/, '.last-run.json');
}

export interface UnfinishedRun {
  journal: string;
  unsettled: number;
  /** Its secrets are sealed: resuming it needs --identity. */
  sealed: boolean;
  /** The journal exists but cannot be read whole: what is wrong with it (resume --salvage reads it). */
  damaged?: string;
}

/** The journal the server's last run recorded, if any. */
export function lastRunJournal(stateDir: string, server: string): string | undefined {
  try {
    const j = (JSON.parse(readFileSync(lastRunPathFor(stateDir, server), 'utf8')) as { journal?: unknown }).journal;
    return typeof j === 'string' ? j : undefined;
  } catch {
    return undefined;
  }
}

/** The server's last run, when its journal still has credentials to settle or cannot be read. */
export function unfinishedRun(stateDir: string, server: string): UnfinishedRun | undefined {
  const journal = lastRunJournal(stateDir, server);
  if (!journal) return undefined;
  let state: JournalState;
  try {
    state = readJournal(journal);
  } catch (e) {
    if (/ENOENT/.test((e as Error).message)) return undefined; // deleted: no longer anyone's way to resume
    // A journal that cannot be read may still hold live secrets: never left behind silently.
    return { journal, unsettled: NaN, sealed: false, damaged: (e as Error).message };
  }
  if (state.intents.size === 0) return undefined; // nothing was ever sent from it
  const n = unsettled(state).length;
  return n > 0 ? { journal, unsettled: n, sealed: state.header.encryption !== undefined } : undefined;
}

/** How the last run ended, recorded once it has (a record without one: the run started and never finished). */
export interface LastRunOutcome {
  exitCode: number;
  endedAt: string;
  durationMs: number;
  counts: Record<string, number>;
  byKind?: Record<string, Record<string, number> | undefined>;
}

export function outcomeOf(s: { exitCode: number; durationMs: number; counts: object; byKind?: object }): LastRunOutcome {
  return {
    exitCode: s.exitCode,
    endedAt: new Date().toISOString(),
    durationMs: s.durationMs,
    counts: s.counts as LastRunOutcome['counts'],
    ...(s.byKind ? { byKind: s.byKind as LastRunOutcome['byKind'] } : {}),
  };
}

/** Records `journal` as the server's last run (with its outcome once it ended): written whole beside it, then renamed into place. */
export async function recordLastRun(stateDir: string, server: string, journal: string, outcome?: LastRunOutcome): Promise<void> {
  const path = lastRunPathFor(stateDir, server);
  try {
    await replaceFile(path, JSON.stringify({ server, journal, at: new Date().toISOString(), ...(outcome ? { outcome } : {}) }) + '\n');
  } catch (e) {
    // Any failure here (ENOSPC, EIO, EACCES on the temp file, its write, the rename) is a failed write of the state directory.
    throw e instanceof FileWriteFailed ? e : new FileWriteFailed(path, errnoOf(e), { cause: e });
  }
}

/**
 * Appends the supersession mark to the journal of the run this one follows, under that journal's
 * lock. A journal that is gone or damaged is left as it is (the last-run record names the newer run).
 */
export async function markSuperseded(previous: string, by: string, server: string, ctx: RunContext): Promise<void> {
  if (!(await lstat(previous).catch(() => undefined))?.isFile()) return;
  let lock;
  try {
    lock = await acquireLock(`${previous}.lock`, server);
  } catch (e) {
    if (e instanceof LockHeld) throw new UsageError(truthMsg.previousBusy(previous, e.message));
    throw e;
  }
  try {
    const w = await JournalWriter.openAppend(previous);
    try {
      await w.append({ t: 'superseded', by, at: new Date().toISOString() });
    } finally {
      await w.close().catch(() => undefined);
    }
  } catch (e) {
    ctx.log.warn(truthMsg.cannotMark(previous, (e as Error).message));
  } finally {
    await lock.release();
  }
}

/**
 * The later run that superseded `journalPath`, if any: its own mark (written by the later run
 * before it sent anything), or the server's last run in this state directory when that is another
 * journal that started later. A later run that sent nothing (its journal gone, or without one
 * intent) supersedes nothing: the passwords of this one are still the live ones.
 */
export function supersededBy(journalPath: string, state: JournalState, stateDir: string | undefined): string | undefined {
  const candidates = [state.supersededBy];
  const last = stateDir ? lastRunJournal(stateDir, state.header.server) : undefined;
  if (last && last !== journalPath) candidates.push(last);
  for (const later of candidates) {
    if (!later || later === journalPath) continue;
    let other: JournalState;
    try {
      other = readJournal(later, { salvage: true });
    } catch (e) {
      if (e instanceof JournalError && /ENOENT/.test(e.message)) continue;
      return later; // exists but unreadable: assume it sent something
    }
    if (other.header.server !== state.header.server) continue;
    if (later !== state.supersededBy && Date.parse(other.header.startedAt) <= Date.parse(state.header.startedAt)) continue;
    if (other.intents.size > 0) return later;
  }
  return undefined;
}

/**
 * `rotate --output r.csv` again after a run killed before it sent anything: its journal (header,
 * not one intent) and report are removed, so the same command runs. Called under the server lock;
 * a journal whose own lock is held by a live run is left alone (acquireLock refuses).
 */
export async function removeLeftovers(csvPath: string, encrypted: boolean, server: string, ctx: RunContext): Promise<void> {
  const journal = csvPath.replace(/\.csv$/i, '') + '.journal.jsonl';
  let state: JournalState;
  try {
    state = readJournal(journal);
  } catch {
    return;
  }
  if (state.intents.size > 0 || state.header.server !== server) return;
  const lock = await acquireLock(`${journal}.lock`, server).catch(() => undefined);
  if (!lock) return;
  try {
    const report = state.header.report || (encrypted ? `${csvPath}.age` : csvPath);
    await unlink(journal);
    await unlink(report).catch(() => undefined);
    ctx.log.warn(truthMsg.removedLeftovers(journal, report));
  } finally {
    await lock.release();
  }
}

/**
 * The later run of the report's server, when `report` (a .csv or .csv.age) is not the newest: read
 * from the journal beside it (its supersession mark, and the server's last run in `stateDir`). A
 * report without its journal is judged by the last-run record alone: when that names another run
 * that sent something, this report is not the newest.
 */
export function newerRunThanReport(report: string, server: string, stateDir: string | undefined): string | undefined {
  const csv = report.replace(/\.age$/i, '');
  const journal = csv.replace(/\.csv$/i, '') + '.journal.jsonl';
  let state: JournalState | undefined;
  try {
    state = readJournal(journal, { salvage: true });
  } catch {
    state = undefined;
  }
  if (state) return supersededBy(journal, state, stateDir);
  const last = stateDir ? lastRunJournal(stateDir, server) : undefined;
  if (!last || last === journal) return undefined;
  try {
    const other = readJournal(last, { salvage: true });
    const sameReport = other.header.report.replace(/\.age$/i, '') === csv;
    return !sameReport && other.header.server === server && other.intents.size > 0 ? last : undefined;
  } catch {
    return undefined;
  }
}
