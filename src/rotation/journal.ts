/**
 * The write-ahead journal: JSON lines, mode 0600, created exclusively (never through a link), only
 * ever appended to.
 * An account's new password is on disk (fdatasync) before the request that sets it is sent, so a
 * run killed at any instant leaves every password that might now be live in this file.
 */
import { createHash } from 'node:crypto';
import { link, lstat, unlink } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { msg } from '../messages.js';
import { dirname } from 'node:path';
import type { SealingHeader } from '../crypto/index.js';
import { credentialId, type Credential, type KindName } from '../kinds/kind.js';
import { createTempBeside, fileUsageError, FileWriteFailed, openAppendNoFollow, PrivateFile, syncDir } from '../files.js';
import type { SkippedAccount } from './enumerate.js';

export const JOURNAL_VERSION = 2;

export interface JournalHeader {
  t: 'header';
  v: number;
  /** Origin of the server (scheme://host:port), never with credentials. */
  server: string;
  host: string;
  user: string;
  scope: 'users' | 'all';
  startedAt: string;
  report: string;
  options: {
    length: number;
    symbols: boolean;
    samePassword: boolean;
    exclude: string[];
    only: string[] | null;
    /** The kinds this run changes. */
    include: KindName[];
    concurrency?: number;
  };
  /** Every credential the run will change or revoke, in dispatch order. */
  credentials: Credential[];
  credentialsSha256: string;
  skipped: SkippedAccount[];
  /** An interrupted earlier journal this run was told to leave behind (--abandon-previous). */
  supersedes?: string;
  /**
   * Listings that failed (an account's mailboxes, login keys...): their credentials are not in
   * `credentials`, so the report names them as failed rows, and so does every resume.
   */
  listingFailures?: JournalListingFailure[];
  /** Set when secrets are sealed for age recipients (--encrypt-to): intents carry `spw`, never `pw`. */
  encryption?: SealingHeader;
}

export interface IntentRecord {
  t: 'intent';
  /** credentialId() of the credential. */
  c: string;
  /** The new secret in clear (no --encrypt-to); absent for revocations. */
  pw?: string;
  /** The new secret sealed for the run's recipients (--encrypt-to). */
  spw?: string;
  at: string;
}

/** `not-sent`: an intent was written but the request never left (run stopped first). */
export type OutcomeStatus = 'rotated' | 'revoked' | 'failed' | 'unknown' | 'not-sent';

export interface OutcomeRecord {
  t: 'outcome';
  c: string;
  status: OutcomeStatus;
  attempts: number;
  verified: boolean;
  error?: string;
  startedAt: string;
  finishedAt: string;
  /** Refused for a reason that hits every credential of its kind (a password policy) or the whole run (a failed login): nothing applied, a resume tries again. */
  systematic?: boolean;
}

export interface MarkRecord {
  t: 'resume' | 'end';
  at: string;
  pid: number;
  reason?: string;
  /** A resume's --length/--symbols: the policy of every secret made from here on (a later resume keeps it). */
  policy?: { length: number; symbols: boolean };
}

export interface JournalListingFailure {
  owner: string;
  kind: KindName;
  error: string;
  /** The one credential concerned (a name that may not be sent, or of no known shape); else the whole kind of the account. */
  name?: string;
  /** 'skipped': the server cannot do it at all (no JSON API); default 'failed'. */
  status?: 'failed' | 'skipped';
}

/** Appended to a journal when a later run of its server starts: this journal is never resumed or notified again. */
export interface SupersededRecord {
  t: 'superseded';
  /** The later run's journal. */
  by: string;
  at: string;
}

/** Appended by `resume --salvage`: the damaged lines it read past (1-based), so the journal reads again. */
export interface SalvagedRecord {
  t: 'salvaged';
  lines: number[];
  at: string;
}

export type JournalRecord = JournalHeader | IntentRecord | OutcomeRecord | MarkRecord | SupersededRecord | SalvagedRecord;

export function hashCredentials(credentials: readonly Credential[]): string {
  return createHash('sha256').update(credentials.map(credentialId).join('\n')).digest('hex');
}

export class JournalError extends Error {
  readonly code = 'JOURNAL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JournalError';
  }
}

interface Pending {
  text: string;
  durable: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Appends records with group commit: records queued while a write+fdatasync is under way go out
 * together in the next one, so concurrency does not multiply fsyncs.
 *
 * Every byte goes through writeAll (a short write is a failure, never taken for a durable one). A
 * failed write or fdatasync latches the writer: that batch and every later append reject at once
 * with the FileWriteFailed, so the run stops dispatching; the partial batch is cut off again
 * (ftruncate to the last whole batch) so the journal stays a file of whole lines.
 *
 * No space is reserved ahead: Node has no fallocate(2), and writing zeros ahead would make an
 * append-only log end in a run of NULs that a crash leaves behind (a damaged journal, and O_APPEND
 * writes would land after the zeros anyway). Instead a batch is on disk whole before any of its
 * requests leaves, and a failed batch is simply not sent (see checkFreeSpace for a preflight).
 */
export class JournalWriter {
  private queue: Pending[] = [];
  private flushing = false;
  private failed: unknown;
  private closed = false;
  private lazyTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly file: PrivateFile,
    /** Bytes of whole, written batches: where a failed batch is cut back to. */
    private size: number,
  ) {}

  get path(): string {
    return this.file.path;
  }

  /** The error that stopped this journal (a FileWriteFailed for a write), if any. */
  get failure(): unknown {
    return this.failed;
  }

  /**
   * Creates a new journal whole, its header already in it: the header is written to a 0600
   * temporary file beside it (random name, exclusive, never through a link) and fsync'd, then
   * linked into place (link(2) fails on anything already there, a link included) and the directory
   * fsync'd. A crash at any instant leaves no journal or a journal with its header, never an empty
   * or headless one. An existing file is a UsageError naming it.
   */
  static async create(path: string, header: JournalHeader): Promise<JournalWriter> {
    const tmp = await createTempBeside(path);
    const bytes = Buffer.from(JSON.stringify(header) + '\n', 'utf8');
    try {
      await tmp.writeAll(bytes);
      await tmp.datasync();
      try {
        await link(tmp.path, path);
      } catch (e) {
        // link(2) answers EEXIST for a planted link or a directory too: say which it is.
        const st = await lstat(path).catch(() => undefined);
        if (st?.isSymbolicLink()) throw new UsageError(msg.isASymlink(path));
        if (st?.isDirectory()) throw new UsageError(msg.isADirectory(path));
        throw fileUsageError(path, e);
      }
    } catch (e) {
      await tmp.close().catch(() => undefined);
      await unlink(tmp.path).catch(() => undefined);
      throw e;
    }
    // The same open file, now under its own name.
    const file = new PrivateFile(path, tmp.handle);
    try {
      await unlink(tmp.path);
      await syncDir(dirname(path));
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
    return new JournalWriter(file, bytes.length);
  }

  /**
   * Opens an existing journal to append to (resume): never through a link, only our own regular
   * file. A last line cut short (a crash or a full disk mid-write; parseJournal ignores it) is cut
   * off first, so the records appended now do not turn it into damage in the middle of the file.
   */
  static async openAppend(path: string): Promise<JournalWriter> {
    const file = await openAppendNoFollow(path);
    try {
      const size = await cutTornTail(file);
      return new JournalWriter(file, size);
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Resolves once the record is written, and when durable also fdatasync'd. A record that need not
   * be durable (an outcome: the intent before it already is) waits up to 200 ms to share a write,
   * usually the next batch of intents.
   */
  append(record: JournalRecord, durable = true): Promise<void> {
    return this.enqueue(JSON.stringify(record) + '\n', durable);
  }

  /** Several records in one write and one fdatasync. */
  appendMany(records: readonly JournalRecord[], durable = true): Promise<void> {
    let text = '';
    for (const r of records) text += JSON.stringify(r) + '\n';
    return this.enqueue(text, durable);
  }

  private enqueue(text: string, durable: boolean): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the error latched by a failed write, passed on as caught
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new JournalError('journal already closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ text, durable, resolve, reject });
      if (this.flushing) return;
      if (durable) void this.flush();
      else
        this.lazyTimer ??= setTimeout(() => {
          this.lazyTimer = undefined;
          if (!this.flushing && this.queue.length > 0) void this.flush();
        }, 200);
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    if (this.lazyTimer) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    while (this.queue.length > 0 && !this.failed) {
      const batch = this.queue;
      this.queue = [];
      try {
        let text = '';
        for (const p of batch) text += p.text;
        const bytes = Buffer.from(text, 'utf8');
        await this.file.writeAll(bytes);
        if (batch.some((p) => p.durable)) await this.file.datasync();
        this.size += bytes.length;
        for (const p of batch) p.resolve();
      } catch (e) {
        this.failed =
          e instanceof FileWriteFailed
            ? e
            : new JournalError(`cannot write the journal ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
        for (const p of [...batch, ...this.queue]) p.reject(this.failed);
        this.queue = [];
        // Best effort: nothing of this batch was sent, so cutting it off loses nothing. If this
        // fails too, openAppend (resume) cuts the torn line.
        await this.file.handle.truncate(this.size).catch(() => undefined);
      }
    }
    this.flushing = false;
  }

  /** Closes and removes a journal nothing was sent for (the run stopped before its first intent). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path);
    await syncDir(dirname(this.path)).catch(() => undefined);
  }

  /** Writes what is queued, fsyncs and closes; rejects with the failure if any write failed. */
  async close(): Promise<void> {
    if (!this.flushing && this.queue.length > 0) void this.flush();
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setImmediate(r));
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.failed) await this.file.sync();
    } catch (e) {
      this.failed = e;
    } finally {
      await this.file.close().catch(() => undefined);
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the error latched by a failed write, rethrown as caught
    if (this.failed) throw this.failed;
  }
}

/** Cuts a last line without its newline; returns the size left. */
async function cutTornTail(file: PrivateFile): Promise<number> {
  const size = await file.size();
  if (size === 0) return 0;
  const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
  let end = size;
  // Scan back from the end for the last newline, 64 KiB at a time.
  for (;;) {
    const from = Math.max(0, end - chunk.length);
    const { bytesRead } = await file.handle.read(chunk, 0, end - from, from);
    const view = chunk.subarray(0, bytesRead);
    if (end === size && view.at(-1) === 0x0a) return size;
    const nl = view.lastIndexOf(0x0a);
    if (nl >= 0) {
      const keep = from + nl + 1;
      await file.handle.truncate(keep);
      await file.datasync();
      return keep;
    }
    if (from === 0) {
      // Not one whole line: not a journal parseJournal would have accepted; leave it as it is.
      return size;
    }
    end = from;
  }
}

export { foldRecord, isSettled, parseJournal, readJournal, unsettled, type DamagedLine, type JournalState, type ParseOptions } from './journal-read.js';
