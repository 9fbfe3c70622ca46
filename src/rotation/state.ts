/** Everything one run against one server holds while it dispatches, passed around as one object. */
import type { DirectAdminClient } from '../directadmin/index.js';
import { describeError } from '../errors.js';
import { FileWriteFailed } from '../files.js';
import { AdaptiveConcurrency, MAX_CONCURRENCY } from './adaptive-concurrency.js';
import type { RequestEvent } from '../directadmin/index.js';
import type { TransportError } from '../directadmin/errors.js';
import type { KindContext, KindName } from '../kinds/index.js';
import type { StoppedKind } from './credentials.js';
import type { StatusCounts } from '../messages.js';
import { msg } from '../messages.js';
import { emptyHealth } from './connection.js';
import type { IntentRecord, JournalWriter } from './journal.js';
import type { PasswordPolicy } from './password.js';
import type { ReportSink } from './encrypted-report.js';
import { REPORT_STATUSES } from './report.js';
import type { RunContext } from './skeleton.js';
import type { WorkSettings } from './settings.js';
import { tallyRow, type KindCounts } from './tally.js';

export type HaltKind = 'interrupt' | 'deadline' | 'fatal' | 'refusal' | 'max-failures' | 'file';

export function emptyCounts(): StatusCounts {
  return Object.fromEntries(REPORT_STATUSES.map((s) => [s, 0])) as StatusCounts;
}

/** Seals secrets for the journal when the run encrypts (--encrypt-to); absent, secrets go in clear into a 0600 file. */
export interface SecretSealing {
  /** `context` (the credential id) is authenticated: a sealed value moved to another record is refused. */
  seal(secret: string, context: string): string;
  unseal(sealed: string, context: string): string;
}

export class RunState {
  readonly counts = emptyCounts();
  /** The same outcomes by kind and status (summary, --json, metrics). */
  readonly byKind: KindCounts = {};
  /** Aborted when the run stops dispatching, for whatever reason: nothing new is sent. */
  readonly halt = new AbortController();
  /** Aborted a grace period after the halt: requests still in flight are abandoned. */
  readonly abandon = new AbortController();
  haltReason: string | undefined;
  /** Credential ids that ended failed or unknown, for --json. */
  readonly failedIds: string[] = [];
  readonly unknownIds: string[] = [];
  haltKind: HaltKind | undefined;
  /** The p-limit of the dispatch, for the progress line (its concurrency may move under --concurrency auto). */
  limiter: { concurrency: number; activeCount: number } | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  /** True until the run may send its first change: until then a stop abandons every request at once. */
  preflight = true;
  /** --concurrency auto: fed every request's latency and strain; the dispatch follows its limit. */
  readonly adaptive: AdaptiveConcurrency | undefined;

  readonly health = emptyHealth();
  /** Set once the run is connected and its files are open. */
  server = '';
  client!: DirectAdminClient;
  kctx!: KindContext;
  journal!: JournalWriter;
  /** Known before the journal is created: a report that fails first still names the resume line. */
  journalPath: string | undefined;
  report!: ReportSink;
  samePassword: string | undefined;
  sealing: SecretSealing | undefined;
  /** The first failed write of the run's files, if any. */
  fileError: FileWriteFailed | undefined;
  /** Kinds stopped for this server (listing or dispatch): not allowed to the login, or not supported. */
  readonly stoppedKinds = new Map<KindName, StoppedKind>();

  constructor(
    readonly ctx: RunContext,
    readonly work: WorkSettings,
    public policy: PasswordPolicy,
    /** How long a stop waits for requests in flight before abandoning them. */
    readonly graceMs: number,
  ) {
    ctx.stop.onStop(() => this.haltWith('run interrupted', 'interrupt'));
    this.adaptive = work.adaptive ? new AdaptiveConcurrency({ initial: work.concurrency, max: MAX_CONCURRENCY }) : undefined;
  }

  /** One request's answer, for the adaptive limit. A fatal error (authentication, TLS, blacklist) is not load. */
  sample(e: RequestEvent): void {
    if (!this.adaptive || e.error?.fatal) return;
    const err = e.error;
    const overload = e.status >= 500 || (err?.kind === 'transport' && (err as TransportError).transportCode !== 'ABANDONED');
    this.adaptive.sample({ latencyMs: e.durationMs, overload });
  }

  /** Stops dispatching (first reason wins); in-flight requests get graceMs, then are abandoned. */
  haltWith(reason: string, kind: HaltKind = 'fatal'): void {
    if (this.halt.signal.aborted) return;
    this.haltReason = reason;
    this.haltKind = kind;
    this.halt.abort();
    // Before the first change (login test, listing) nothing in flight can change anything: a stop ends at once.
    if (this.preflight && kind === 'interrupt') {
      this.abandon.abort();
      return;
    }
    this.graceTimer = setTimeout(() => {
      if (!this.abandon.signal.aborted) {
        this.ctx.log.warn(msg.abandoned(this.graceMs));
        this.abandon.abort();
      }
    }, this.graceMs);
    this.graceTimer.unref();
  }

  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }

  /** A journal that cannot be written stops the run: the message names the file and the way on. */
  fileFailure(e: unknown): string {
    if (e instanceof FileWriteFailed) this.fileError ??= e;
    if (e instanceof FileWriteFailed && this.journalPath) {
      return msg.writeStopped(e.path, e.errno, this.resumeCommand(this.journalPath));
    }
    return this.ctx.secrets.scrub(describeError(e));
  }

  /** The command that finishes this run. A sealed journal opens only with the operator's identity: the line says so. */
  resumeCommand(journal: string): string {
    const line = this.ctx.resumeCommand?.(journal) ?? `da-rotate resume ${journal}`;
    return this.sealing && !/\s--identity\s/.test(line) ? `${line} --identity AGE_IDENTITY_FILE` : line;
  }

  /** One row's outcome counted, by status and by kind. */
  count(row: { kind: string; status: keyof StatusCounts }): void {
    this.counts[row.status]++;
    tallyRow(this.byKind, row);
  }

  intentRecord(c: string, secret: string | undefined, at: string): IntentRecord {
    if (secret === undefined) return { t: 'intent', c, at };
    return this.sealing ? { t: 'intent', c, spw: this.sealing.seal(secret, c), at } : { t: 'intent', c, pw: secret, at };
  }

  secretOf(intent: IntentRecord): string | undefined {
    if (intent.pw !== undefined) return intent.pw;
    if (intent.spw !== undefined && this.sealing) return this.sealing.unseal(intent.spw, intent.c);
    return undefined;
  }
}
