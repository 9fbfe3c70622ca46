/**
 * The sent-log: JSON lines (mode 0600, only appended, fdatasync'd per line) beside the report, so
 * that a rerun of notify never sends an account's message twice.
 *
 * For each message: an `attempt` line is durable BEFORE the message is handed to SMTP, a `sent`
 * line (with the message id) after the server accepted it, a `failed` line when it surely was not
 * accepted (refused, or the connection lost before the whole message and its final dot went out),
 * an `uncertain` line when the connection was lost after the final dot (maybe accepted). An `attempt` with neither after it is *uncertain*: the crash (or the lost
 * connection) came between handing the message over and recording the answer, so it may have been
 * delivered. That window cannot be closed (SMTP has no idempotent submit); a rerun does not resend
 * such accounts unless --resend-uncertain is given, and names them.
 */
import { constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { syncDir } from '../files.js';
import { checkPrivateDir } from '../directories.js';

export interface SentLogHeader {
  t: 'header';
  v: 1;
  server: string;
  report: string;
  createdAt: string;
}
export interface AttemptRecord {
  t: 'attempt';
  account: string;
  to: string;
  messageId: string;
  deliver: string;
  at: string;
}
export interface SentRecord {
  t: 'sent';
  account: string;
  to: string;
  messageId: string;
  response: string;
  at: string;
}
export interface FailedRecord {
  t: 'failed';
  account: string;
  messageId: string;
  error: string;
  at: string;
}
/** The connection was lost after the whole message (final dot included) was handed over: maybe accepted. */
export interface UncertainRecord {
  t: 'uncertain';
  account: string;
  messageId: string;
  error: string;
  at: string;
}
export type SentLogRecord = SentLogHeader | AttemptRecord | SentRecord | FailedRecord | UncertainRecord;

export type AccountDelivery =
  { state: 'sent'; messageId: string; to: string } | { state: 'uncertain'; messageId: string; to: string } | { state: 'failed'; error: string };

/** The sent-log's path for a report: `<name>.csv[.age]` -> `<name>.csv.sent.jsonl`. */
export function sentLogPathFor(reportPath: string): string {
  return `${reportPath.replace(/\.age$/, '')}.sent.jsonl`;
}

export class SentLog {
  readonly #handle: fsp.FileHandle;
  readonly deliveries: Map<string, AccountDelivery>;

  private constructor(
    readonly path: string,
    handle: fsp.FileHandle,
    deliveries: Map<string, AccountDelivery>,
  ) {
    this.#handle = handle;
    this.deliveries = deliveries;
  }

  /** Opens (or creates) the log for a report of `server`; a log of another server is refused. */
  static async open(path: string, server: string, report: string): Promise<SentLog> {
    await checkPrivateDir(dirname(path), { create: false });
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new UsageError(`cannot open the sent-log ${path}: ${code === 'ELOOP' ? 'it is a symbolic link' : (code ?? 'error')}`);
      return SentLog.#create(path, server, report);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new UsageError(`the sent-log ${path} is not a regular file`);
      if ((st.mode & 0o077) !== 0)
        throw new UsageError(`the sent-log ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`);
      let text = (await handle.readFile()).toString('utf8');
      if (text.length && !text.endsWith('\n')) {
        // A torn last line was never fsync'd, so nothing was acted on after it: drop it.
        const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
        await handle.truncate(keep);
        await handle.datasync();
        text = text.slice(0, text.lastIndexOf('\n') + 1);
      }
      const deliveries = parseSentLog(text, path, server);
      return new SentLog(path, handle, deliveries);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
  }

  static async #create(path: string, server: string, report: string): Promise<SentLog> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (e) {
      throw new UsageError(`cannot create the sent-log ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const log = new SentLog(path, handle, new Map());
    const header: SentLogHeader = { t: 'header', v: 1, server, report, createdAt: new Date().toISOString() };
    await log.append(header);
    await syncDir(dirname(path));
    return log;
  }

  /** Appends one record, every byte, and makes it durable before returning. */
  async append(record: SentLogRecord): Promise<void> {
    const bytes = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, offset, bytes.length - offset);
      if (bytesWritten <= 0) throw new Error(`the sent-log ${this.path}: a write made no progress`);
      offset += bytesWritten;
    }
    await this.#handle.datasync();
    apply(this.deliveries, record);
  }

  async close(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }
}

function apply(map: Map<string, AccountDelivery>, r: SentLogRecord): void {
  if (r.t === 'header') return;
  const prev = map.get(r.account);
  if (prev?.state === 'sent') return; // sent is final
  if (r.t === 'attempt') map.set(r.account, { state: 'uncertain', messageId: r.messageId, to: r.to });
  else if (r.t === 'uncertain') map.set(r.account, { state: 'uncertain', messageId: r.messageId, to: prev && 'to' in prev ? prev.to : '' });
  else if (r.t === 'sent') map.set(r.account, { state: 'sent', messageId: r.messageId, to: r.to });
  else map.set(r.account, { state: 'failed', error: r.error });
}

/** Reads a whole log; a damaged line (other than a torn tail, removed on open) is refused. */
export function parseSentLog(text: string, path: string, server: string): Map<string, AccountDelivery> {
  const map = new Map<string, AccountDelivery>();
  const lines = text.split('\n').filter((l) => l !== '');
  lines.forEach((line, i) => {
    let r: SentLogRecord;
    try {
      r = JSON.parse(line) as SentLogRecord;
    } catch {
      throw new UsageError(`the sent-log ${path} is damaged at line ${i + 1}: fix or move it (it records which customers were already notified)`);
    }
    if (i === 0) {
      if (r.t !== 'header') throw new UsageError(`${path} is not a da-rotate sent-log (no header line)`);
      if (r.server !== server) throw new UsageError(`the sent-log ${path} belongs to ${r.server}, the report to ${server}: they do not go together`);
      return;
    }
    if (!r || typeof r !== 'object' || typeof (r as { account?: unknown }).account !== 'string' || !['attempt', 'sent', 'failed', 'uncertain'].includes(r.t)) {
      throw new UsageError(`the sent-log ${path} is damaged at line ${i + 1}: fix or move it (it records which customers were already notified)`);
    }
    apply(map, r);
  });
  return map;
}
