/**
 * Which journal was the last run against a server, kept beside the server's lock in the state
 * directory. `rotate` reads it so an interrupted run is never silently left behind: its unsettled
 * credentials may hold live secrets that only its journal knows.
 */
import { readFileSync } from 'node:fs';
import { replaceFile } from '../files.js';
import { readJournal, unsettled } from './journal.js';
import { lockPathForServer } from './lock.js';

export function lastRunPathFor(stateDir: string, server: string): string {
  return lockPathForServer(stateDir, server).replace(/\.lock$/, '.last-run.json');
}

export interface UnfinishedRun {
  journal: string;
  unsettled: number;
  /** Its secrets are sealed: resuming it needs --identity. */
  sealed: boolean;
}

/** The server's last run, when its journal still has credentials to settle. */
export function unfinishedRun(stateDir: string, server: string): UnfinishedRun | undefined {
  let journal: string;
  try {
    journal = (JSON.parse(readFileSync(lastRunPathFor(stateDir, server), 'utf8')) as { journal: string }).journal;
  } catch {
    return undefined;
  }
  try {
    const state = readJournal(journal);
    const n = unsettled(state).length;
    return n > 0 ? { journal, unsettled: n, sealed: state.header.encryption !== undefined } : undefined;
  } catch {
    // A journal that was deleted or cannot be read is no longer anyone's way to resume.
    return undefined;
  }
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
  await replaceFile(
    lastRunPathFor(stateDir, server),
    JSON.stringify({ server, journal, at: new Date().toISOString(), ...(outcome ? { outcome } : {}) }) + '\n',
  );
}
