/**
 * Which journal was the last run against a server, kept beside the server's lock in the state
 * directory. `rotate` reads it so an interrupted run is never silently left behind: its unsettled
 * credentials may hold live secrets that only its journal knows.
 */
import { readFileSync } from 'node:fs';
import { errnoOf, FileWriteFailed, replaceFile } from '../files.js';
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

/** Records `journal` as the server's last run: written whole beside it, then renamed into place. */
export async function recordLastRun(stateDir: string, server: string, journal: string): Promise<void> {
  const path = lastRunPathFor(stateDir, server);
  try {
    await replaceFile(path, JSON.stringify({ server, journal, at: new Date().toISOString() }) + '\n');
  } catch (e) {
    // Any failure here (ENOSPC, EIO, EACCES on the temp file, its write, the rename) is a failed write of the state directory.
    throw e instanceof FileWriteFailed ? e : new FileWriteFailed(path, errnoOf(e), { cause: e });
  }
}
