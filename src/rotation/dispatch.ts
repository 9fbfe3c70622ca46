/**
 * Sends the changes: intents journaled a window ahead, the first change of each kind sent alone
 * (a canary), p-limit (the worker's one concurrency limit) for the rest, and every way a run stops (signal, fatal error, a refusal that
 * would hit everyone, --max-failures, --deadline) funnelled into one halt.
 */
import pLimit from 'p-limit';
import { kindByName, type Credential, type KindName } from '../kinds/index.js';
import { msg, type StatusCounts } from '../messages.js';
import type { IntentRecord, OutcomeRecord } from './journal.js';
import { MAX_CONCURRENCY } from './adaptive-concurrency.js';
import { generatePassword } from './password.js';
import type { ReportRow, ReportStatus } from './report.js';
import type { RunState } from './state.js';
import { changeCredential, type CredentialOutcome, type WorkerContext } from './worker.js';

export interface WorkItem {
  credential: Credential;
  /** credentialId(credential), made once: the dispatch keys its sets and records by this one string. */
  readonly id: string;
  secret: string | undefined;
  /** An earlier run journaled this change: it may have been sent, so prove or resend before anything else. */
  journaled: boolean;
  /**
   * Requests earlier runs sent with this secret, as their outcome records say (a resume's item):
   * its row counts on from them, so an `unknown` row never says 0 attempts for a change that was sent.
   */
  earlierAttempts?: number;
}

export interface DispatchResult {
  /** Credentials whose outcome was recorded in this dispatch. */
  finished: Set<string>;
  /** Credentials whose intent this dispatch journaled ahead but never sent. */
  prefetchedNotSent: Set<string>;
  /** Changes whose request was started (0: nothing was sent). */
  sent: number;
}

/** A fresh secret for a credential, within the run's policy and the kind's limits. */
export function secretFor(state: RunState, credential: Credential): string | undefined {
  const kind = kindByName(credential.kind);
  if (kind.action === 'revoke') return undefined;
  if (state.samePassword) return state.samePassword;
  const rules = kind.secretRules ?? {};
  const length = Math.min(rules.maxLength ?? Infinity, Math.max(rules.minLength ?? 0, state.policy.length));
  return generatePassword({ ...state.policy, length });
}

/**
 * Journals intents ahead of the requests: a whole window of credentials (max(64, 4 x concurrency))
 * is kept journaled ahead of the one being sent, in batches of max(64, concurrency) (one write +
 * fdatasync each; batches queued while one is on its way share the next write). So a request never
 * waits for the disk unless the disk falls a window behind. The rule stays "on disk before sent";
 * an intent journaled but never sent is harmless: a resume proves it before anything else.
 *
 * Why batches this large: every fdatasync of an appended file is a filesystem journal commit, and
 * on a small machine that kernel work competes with the requests. With 16 intents a batch, 4 000
 * changes took 250 commits and a bare client loop that journaled this way lost 1.5 to 2.5 points of
 * throughput; with 64 it lost 0.5 to 1 (scripts/bench/floor.mjs's loop, the plain stand-in, c = 16).
 */
class IntentReadAhead {
  private next = 0;
  private readonly batches: Array<Promise<void>> = [];
  /** batchOf[i]: the batch that journals items[i] (valid for i < next). */
  private readonly batchOf: Int32Array;
  /** durable[b]: batch b is on disk (its promise resolved); read without a microtask hop. */
  private readonly durable: boolean[] = [];
  private topUpQueued = false;
  /** The furthest item any lane has asked for: deferred top-ups reach a window past it. */
  private highest = 0;
  readonly journaledHere = new Set<string>();
  /** Outcomes waiting to share the next write (they need not be durable: their intents are). */
  private outcomes: OutcomeRecord[] = [];

  constructor(
    private readonly items: WorkItem[],
    private readonly state: RunState,
    private readonly window: number,
    private readonly batch: number,
  ) {
    this.batchOf = new Int32Array(items.length);
  }

  /**
   * Resolves once items[index]'s intent is durable (undefined when it already is: no await needed);
   * keeps the next window journaled or on its way. A canary journals only itself: if it is refused
   * for every credential of its kind, the run stops without a window of secrets written for
   * nothing, and it leaves as soon as it can.
   */
  ready(index: number, readAhead = true): Promise<void> | undefined {
    if (index > this.highest) this.highest = index;
    if (index < this.next) {
      const b = this.batchOf[index]!;
      if (this.durable[b] === true) {
        // The usual case: this batch went to disk long ago. Topping the window up (passwords, JSON,
        // a write) waits until the request has left: a lane's next request never waits for it.
        if (readAhead && this.next <= this.wanted(index) && !this.topUpQueued) {
          this.topUpQueued = true;
          setImmediate(() => {
            this.topUpQueued = false;
            this.topUp(this.wanted(this.highest));
          });
        }
        return undefined;
      }
      if (readAhead) this.topUp(this.wanted(index));
      return this.batches[b];
    }
    if (readAhead) this.topUp(this.wanted(index));
    else this.startBatch(index + 1);
    return this.batches[this.batchOf[index]!];
  }

  private wanted(index: number): number {
    return Math.min(index + this.window, this.items.length - 1);
  }

  /** Journals ahead through items[want]. */
  private topUp(want: number): void {
    while (this.next <= want) this.startBatch(Math.min(this.items.length, this.next + this.batch));
  }

  private outcomeTimer: NodeJS.Timeout | undefined;

  /** Queues an outcome record: written with the next batch of intents, a batch's worth at a time, or within 200 ms. */
  outcome(record: OutcomeRecord): void {
    this.outcomes.push(record);
    if (this.outcomes.length >= OUTCOMES_PER_WRITE) this.flushOutcomes();
    else this.outcomeTimer ??= setTimeout(() => this.flushOutcomes(), 200);
  }

  flushOutcomes(): void {
    if (this.outcomeTimer) {
      clearTimeout(this.outcomeTimer);
      this.outcomeTimer = undefined;
    }
    if (this.outcomes.length === 0) return;
    const records = this.outcomes;
    this.outcomes = [];
    this.state.journal.appendMany(records, false).catch((e: unknown) => this.state.haltWith(this.state.fileFailure(e), 'file'));
  }

  /** Journals items[next .. to) in one write and one fdatasync. */
  private startBatch(to: number): void {
    const from = this.next;
    const b = this.batches.length;
    const records: Array<IntentRecord | OutcomeRecord> = this.outcomes;
    this.outcomes = [];
    if (this.outcomeTimer) {
      clearTimeout(this.outcomeTimer);
      this.outcomeTimer = undefined;
    }
    let intents = 0;
    const at = new Date().toISOString();
    for (let i = from; i < to; i++) {
      this.batchOf[i] = b;
      const item = this.items[i]!;
      if (item.journaled) continue;
      const id = item.id;
      item.secret ??= secretFor(this.state, item.credential);
      records.push(this.state.intentRecord(id, item.secret, at));
      this.journaledHere.add(id);
      intents++;
    }
    this.next = to;
    if (intents === 0) {
      // Nothing new to make durable (a resume's items are journaled already).
      this.durable[b] = true;
      this.batches.push(records.length > 0 ? this.lazy(records) : Promise.resolve());
      return;
    }
    const durable = this.state.journal.appendMany(records);
    // A batch written ahead may fail before any job waits on it: stop the run at once (nothing of
    // it is sent: its jobs see the rejection in ready()), and never leave the rejection unhandled.
    durable.then(
      () => (this.durable[b] = true),
      (e: unknown) => this.state.haltWith(this.state.fileFailure(e), 'file'),
    );
    this.batches.push(durable);
  }

  private lazy(records: OutcomeRecord[] | Array<IntentRecord | OutcomeRecord>): Promise<void> {
    this.state.journal.appendMany(records, false).catch((e: unknown) => this.state.haltWith(this.state.fileFailure(e), 'file'));
    return Promise.resolve();
  }
}

const DONE = Promise.resolve();

/** Outcome records are written 16 at a time (or with the next batch of intents, or within 200 ms): a crash loses few, and a resume proves those from their intents anyway. */
const OUTCOMES_PER_WRITE = 16;

export function outcomeRow(server: string, o: CredentialOutcome): ReportRow {
  const c = o.credential;
  // Built field by field (no spread of baseRow): one row per credential, on the hot path.
  return {
    server,
    username: c.owner,
    kind: c.kind,
    credential: c.name,
    details: c.details,
    status: o.status === 'not-sent' ? 'not-started' : o.status,
    password: o.secret,
    attempts: o.attempts,
    verified: o.verified,
    error: o.status === 'not-sent' ? `not sent: ${o.error ?? 'run stopped'}` : o.error,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
  };
}

function outcomeRecord(id: string, o: CredentialOutcome): OutcomeRecord {
  return {
    t: 'outcome',
    c: id,
    status: o.status,
    attempts: o.attempts,
    verified: o.verified,
    error: o.error,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
    ...(o.refusal || o.wholeRun ? { systematic: true } : {}),
  };
}

export function countRow(counts: StatusCounts, status: ReportStatus): void {
  counts[status]++;
}

export async function dispatch(items: WorkItem[], state: RunState): Promise<DispatchResult> {
  const { ctx, work } = state;
  // The worker's one concurrency limit; under --concurrency auto the learnt limit sets it as it changes.
  const limit = pLimit(state.adaptive?.current ?? work.concurrency);
  state.limiter = limit;
  state.adaptive?.onChange((n) => (limit.concurrency = n));
  let failures = 0;
  let done = 0;
  const finished = new Set<string>();
  const started = new Set<string>();
  const refusals = new Map<string, number>();
  // The first change of each kind goes alone: a refusal that would hit every credential costs one.
  const canaries = new Map<KindName, Promise<void>>();
  const canariesBack = new Set<KindName>();
  // Sized for the most requests that may be in flight (under auto, the limit can grow to its ceiling).
  const most = state.adaptive ? MAX_CONCURRENCY : work.concurrency;
  const readAhead = new IntentReadAhead(items, state, Math.max(64, 4 * most), Math.max(64, most));
  const workers = new Map<KindName, WorkerContext>();
  const workerFor = (kind: KindName): WorkerContext => {
    let w = workers.get(kind);
    if (!w) {
      w = {
        kind: kindByName(kind),
        kctx: state.kctx,
        secrets: ctx.secrets,
        retries: work.retries,
        retryDelayMs: work.retryDelayMs,
        signal: state.halt.signal,
        onRetry: () => void state.health.retries++,
      };
      workers.set(kind, w);
    }
    return w;
  };
  let progress: NodeJS.Timeout | undefined;
  if (ctx.onProgress) {
    const since = Date.now();
    progress = setInterval(() => {
      const rate = done / Math.max(0.001, (Date.now() - since) / 1000);
      ctx.onProgress!({ server: state.server, done, total: items.length, counts: state.counts, concurrency: limit.concurrency, rate });
    }, 250);
    progress.unref();
  }

  /** Records one credential's outcome: journal, report, counts, and whatever it means for the run. */
  const settled = (item: WorkItem, outcome: CredentialOutcome, canary: boolean): void => {
    const id = item.id;
    done++;
    finished.add(id);
    readAhead.outcome(outcomeRecord(id, outcome));
    const row = outcomeRow(state.server, outcome);
    state.count(row);
    state.report.write(row);
    if (ctx.log.isLevelEnabled('debug')) {
      ctx.log.debug(
        { credential: id, status: outcome.status, attempts: outcome.attempts, verified: outcome.verified, err: outcome.error },
        'credential settled',
      );
    }
    if (outcome.fatal) state.haltWith(outcome.fatal.message);
    if (outcome.stop && !state.stoppedKinds.has(item.credential.kind)) {
      // Not allowed to this login: that kind stops here (its other credentials are not sent), the run goes on.
      state.stoppedKinds.set(item.credential.kind, { ...outcome.stop, accounts: 1 });
      ctx.log.warn(outcome.stop.message);
    }
    if (outcome.refusal) {
      const n = (refusals.get(outcome.refusal.key) ?? 0) + 1;
      refusals.set(outcome.refusal.key, n);
      if (n >= 2 || canary) state.haltWith(msg.systematicRefusal(item.credential.kind, outcome.refusal.fix, n), 'refusal');
    }
    if (outcome.status === 'failed' || outcome.status === 'unknown') {
      (outcome.status === 'failed' ? state.failedIds : state.unknownIds).push(id);
      failures++;
      if (work.maxFailures > 0 && failures >= work.maxFailures) state.haltWith(msg.maxFailures(failures, limit.activeCount), 'max-failures');
    }
  };

  /** One credential: its intent durable, then the change, then its outcome recorded. */
  const runItem = async (item: WorkItem, index: number, canary: boolean): Promise<void> => {
    if (state.halt.signal.aborted) return;
    try {
      const durable = readAhead.ready(index, !canary);
      if (durable) await durable;
    } catch (e) {
      // Without a durable journal nothing may be sent: stop everything.
      state.haltWith(state.fileFailure(e), 'file');
      return;
    }
    if (state.halt.signal.aborted) return;
    const stopped = state.stoppedKinds.get(item.credential.kind);
    if (stopped) {
      // Its kind was refused to this login: never sent, left to a resume once the key allows it.
      stopped.accounts++;
      const now = new Date().toISOString();
      const error = stopped.reason === 'permission' ? `the login key does not allow ${stopped.missing}: add it, then resume` : stopped.message;
      // Not sent now; a change an earlier run journaled may still be live: it stays unknown, with its secret.
      const maybeLive = item.journaled;
      const status = maybeLive ? 'unknown' : 'not-sent';
      const secret = maybeLive ? item.secret : undefined;
      const attempts = item.earlierAttempts ?? 0;
      settled(item, { credential: item.credential, status, secret, attempts, verified: false, error, startedAt: now, finishedAt: now }, false);
      return;
    }
    started.add(item.id);
    const outcome = await changeCredential(workerFor(item.credential.kind), item.credential, item.secret, { verifyFirst: item.journaled });
    if (item.earlierAttempts) outcome.attempts += item.earlierAttempts;
    settled(item, outcome, canary);
  };

  /** The first credential of its kind goes alone; the others wait for it. */
  const canaryFirst = async (item: WorkItem, index: number): Promise<void> => {
    const kind = item.credential.kind;
    const canary = canaries.get(kind);
    if (canary) {
      await canary;
      return runItem(item, index, false);
    }
    let release!: () => void;
    canaries.set(kind, new Promise<void>((r) => (release = r)));
    try {
      await runItem(item, index, true);
    } finally {
      canariesBack.add(kind);
      release();
    }
  };

  // Not async itself: once a kind's canary is back, a job is runItem and nothing else (one async
  // frame and no extra microtask hops between an answer and the lane's next request).
  const job = (item: WorkItem, index: number): Promise<void> => {
    // Queued jobs are not cleared (p-limit's clearQueue would leave their promises pending): each returns at once.
    if (state.halt.signal.aborted) return DONE;
    return canariesBack.has(item.credential.kind) ? runItem(item, index, false) : canaryFirst(item, index);
  };

  try {
    await limit.map(items, job);
  } finally {
    if (progress) clearInterval(progress);
    readAhead.flushOutcomes();
  }
  const prefetchedNotSent = new Set([...readAhead.journaledHere].filter((id) => !started.has(id)));
  return { finished, prefetchedNotSent, sent: started.size };
}
