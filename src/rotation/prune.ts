/**
 * `prune`: old reports and journals under cron would pile up forever. A run is its report (.csv or
 * .csv.age) and, for rotations, its journal; runs are recognised by the default names only
 * (`rotation-<host>_<port>-<time>[-n]`, `plan-...`), so files named with --output are never
 * touched. The newest N runs of each server and kind are kept, and a journal that still has
 * credentials to settle is never deleted, nor the report beside it: its new secrets may be live and
 * only that journal knows them (`resume` settles it; then it may go). A report's notify sent-log
 * (<name>.csv.sent.jsonl) goes with it, and notify --dry-run's notify-<time>/ directories of .eml
 * files (they hold passwords) are kept and pruned by the same rule.
 */
import { readdirSync, lstatSync } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readJournal, unsettled } from './journal.js';

/** rotation-<hostKey>-<20261129T040000.123Z>[-n].<ext>, as uniqueReportPath names them. */
const RUN_FILE = /^(rotation|plan)-(.+)-(\d{8}T\d{6}(?:\.\d+)?Z)(?:-(\d+))?\.(csv|csv\.age|journal\.jsonl|csv\.sent\.jsonl)$/;
/** notify --dry-run's default directory of .eml files (they hold the new passwords). */
const EML_DIR = /^notify-(\d{8}T\d{6}(?:\.\d+)?Z)(?:-(\d+))?$/;

export interface RunFiles {
  /** The common stem, e.g. /out/rotation-da.example.com_2222-20261129T040000.123Z */
  stem: string;
  kind: 'rotation' | 'plan' | 'notify';
  server: string;
  /** When the run started (from its name), ms since the epoch; ties broken by the -n suffix. */
  time: number;
  seq: number;
  files: string[];
  journal?: string;
  /** notify: the directory of .eml files, removed once emptied. */
  dir?: string;
}

export interface PruneOptions {
  dir: string;
  /** Keep the newest `keep` runs of each server and kind. */
  keep: number;
  /** Only runs older than this many ms may go. */
  olderThanMs?: number;
  /** false: say what would go, delete nothing. */
  delete: boolean;
  now?: number;
}

export interface ProtectedRun {
  journal: string;
  /** Credentials still to settle, or undefined when the journal cannot be read at all. */
  unsettled?: number;
  why: string;
}

export interface PruneResult {
  dir: string;
  /** Files deleted (or, without `delete`, that would be). */
  removed: string[];
  /** Runs kept because they are among the newest or not old enough. */
  kept: number;
  /** Runs past the limits kept because their journal still matters. */
  protected: ProtectedRun[];
  deleted: boolean;
}

function timeOf(stamp: string): number {
  // 20261129T040000.123Z -> 2026-11-29T04:00:00.123Z
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\.\d+)?Z$/.exec(stamp);
  if (!m) return NaN;
  return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`);
}

/** The runs in `dir` by their default names; anything else is left alone. */
export function findRuns(dir: string): RunFiles[] {
  const runs = new Map<string, RunFiles>();
  for (const name of readdirSync(dir)) {
    const eml = EML_DIR.exec(name);
    if (eml) {
      const path = join(dir, name);
      if (!lstatSync(path).isDirectory()) continue;
      const entries = readdirSync(path);
      // Only a directory of .eml regular files is ours to remove; anything else in it keeps it.
      if (!entries.every((e) => e.endsWith('.eml') && lstatSync(join(path, e)).isFile())) continue;
      runs.set(path, {
        stem: path,
        kind: 'notify',
        server: '',
        time: timeOf(eml[1]!),
        seq: Number(eml[2] ?? 1),
        files: entries.map((e) => join(path, e)),
        dir: path,
      });
      continue;
    }
    const m = RUN_FILE.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    // Only regular files: a link or a directory with a run's name is not something we wrote.
    if (!lstatSync(path).isFile()) continue;
    const stem = path.slice(0, path.length - m[5]!.length - 1);
    let run = runs.get(stem);
    if (!run) {
      run = { stem, kind: m[1] as 'rotation' | 'plan', server: m[2]!, time: timeOf(m[3]!), seq: Number(m[4] ?? 1), files: [] };
      runs.set(stem, run);
    }
    run.files.push(path);
    if (m[5] === 'journal.jsonl') run.journal = path;
  }
  return [...runs.values()].filter((r) => Number.isFinite(r.time));
}

/** Why a run's journal must stay, or undefined when every credential in it is settled. */
export function journalProtection(journal: string): ProtectedRun | undefined {
  try {
    const state = readJournal(journal);
    // Not one intent: nothing was ever sent from it (a run stopped before its first change), nothing can be live.
    if (state.intents.size === 0) return undefined;
    const n = unsettled(state).length;
    return n > 0 ? { journal, unsettled: n, why: `${n} credential(s) not settled: run \`da-rotate resume ${journal}\` first` } : undefined;
  } catch (e) {
    return { journal, why: `it cannot be read (${e instanceof Error ? e.message : String(e)}): check it by hand` };
  }
}

export async function prune(options: PruneOptions): Promise<PruneResult> {
  const dir = resolve(options.dir);
  const now = options.now ?? Date.now();
  const groups = new Map<string, RunFiles[]>();
  for (const run of findRuns(dir)) {
    const key = `${run.kind}\0${run.server}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const result: PruneResult = { dir, removed: [], kept: 0, protected: [], deleted: options.delete };
  for (const runs of groups.values()) {
    runs.sort((a, b) => b.time - a.time || b.seq - a.seq);
    for (const [i, run] of runs.entries()) {
      const old = options.olderThanMs === undefined || now - run.time > options.olderThanMs;
      if (i < options.keep || !old) {
        result.kept++;
        continue;
      }
      const guard = run.journal ? journalProtection(run.journal) : undefined;
      if (guard) {
        result.protected.push(guard);
        continue;
      }
      // The journal last: if a deletion fails half-way, what is left still has its journal.
      const files = [...run.files].sort((a, b) => Number(a === run.journal) - Number(b === run.journal));
      for (const f of files) {
        if (options.delete) await unlink(f);
        result.removed.push(f);
      }
      if (run.dir) {
        if (options.delete) await rmdir(run.dir);
        result.removed.push(run.dir);
      }
    }
  }
  result.removed.sort();
  return result;
}
