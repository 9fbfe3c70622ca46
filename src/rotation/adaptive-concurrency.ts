/**
 * `--concurrency auto`: how many requests to keep in flight, learnt from the server's answers.
 *
 * A latency-gradient limiter with AIMD steps (after Netflix's concurrency-limits and TCP Vegas).
 * Time is counted in samples, not read from a clock: an *epoch* is as many answers as the limit
 * (about one round trip at that limit), so the limiter behaves the same on a 1 ms and a 1 s server
 * and its tests need no timers.
 *
 * - An epoch's latency is the lower quartile of its answers (at least MIN_EPOCH of them): a stall
 *   of the client's own event loop or a GC pause delays some answers, never the fastest quarter.
 * - The baseline is the lowest epoch latency seen in slow start. After it, only probes move it:
 *   every PROBE_EVERY epochs (and a few epochs after a second shrink in a row) the limit is
 *   halved for one epoch and that epoch's latency is blended into the baseline (BBR's ProbeRTT).
 *   A running minimum of noisy epochs would drift ever lower, every later epoch would look slow
 *   and the limit would sink to nothing (it did, on a loaded machine); a server that became
 *   slower for reasons of its own is not read as overloaded forever, and one that recovered is
 *   seen to have recovered.
 * - Each epoch compares its latency with the baseline. Below GROW (latency holds: a larger
 *   window is more throughput), the limit grows: in slow start by min(limit, SLOW_START_STEP),
 *   after it by about sqrt(limit)/2. Above SHRINK for two epochs in a row (or SHRINK_AT_ONCE for
 *   one) it shrinks in proportion to the excess (at least 5%, at most half). Between, it holds.
 * - An overload signal (5xx, connection reset, timeout) cuts the limit by 30% at once, at most
 *   once an epoch, and ends slow start.
 * - After a change, as many answers as the larger of the two limits are skipped: those to
 *   requests sent under the old limit, and, after a growth, those sent while the new requests were
 *   going out (they met a server less loaded than the new limit), so an epoch measures the new
 *   limit only.
 *
 * On a server that slows by the square of its overload past capacity C (the simulator's degrade
 * mode), throughput peaks near 1.4 C and latency is up 4% at 1.2 C, 9% at 1.3 C: the limit
 * settles around 1.1 to 1.25 C. Authentication failures are not load: callers must not feed them.
 */

export interface AdaptiveConcurrencyOptions {
  /** Where to start (default 8, the fixed default; clamped to [min, max]). */
  initial?: number;
  /** Never below (default 1). */
  min?: number;
  /** Never above (default 64, at most 64). */
  max?: number;
}

export interface ConcurrencySample {
  /** Time from sending the request to its answer (or failure). */
  latencyMs: number;
  /** The server showed strain: a 5xx, a reset connection, a timeout. */
  overload: boolean;
}

/** Epoch mean / baseline below this: the server keeps up, grow. */
const GROW = 1.03;
/** Above this: requests queue, shrink. */
const SHRINK = 1.07;
/** Above this, one epoch is enough to shrink. */
const SHRINK_AT_ONCE = 1.5;
/** Multiplier on an overload signal. */
const OVERLOAD_BACKOFF = 0.7;
/** Epochs between baseline probes (about 3% of the time at half the limit). */
const PROBE_EVERY = 32;
/** Epochs from a shrink to the next baseline probe (at most). */
const PROBE_AFTER_SHRINK = 3;
/** Fewest answers an epoch averages, so one slow answer at a low limit does not decide. */
const MIN_EPOCH = 16;
/**
 * Slow start grows by at most this many requests an epoch (doubling below it). A server counts
 * the requests it is processing, and the fastest answers of an epoch are those that arrived while
 * others were between answer and resend: an epoch reads a little less load than its limit, so
 * doubling from 32 went to 64 on the simulator's degrading server (2.7 times its capacity).
 */
const SLOW_START_STEP = 8;
export const MAX_CONCURRENCY = 64;

export class AdaptiveConcurrency {
  readonly #min: number;
  readonly #max: number;
  #limit: number;
  #current: number;
  #slowStart = true;
  #baseline = Infinity;
  /** Answers still to skip: requests sent before the last change. */
  #skip = 0;
  #epoch: number[] = [];
  #overloadHandled = false;
  /** The last epoch was above SHRINK. */
  #slowBefore = false;
  /** Shrinks since the limit last grew. */
  #shrinksInARow = 0;
  #epochsSinceProbe = 0;
  /** While probing the baseline: the limit to return to. */
  #probeReturn: number | undefined;
  readonly #listeners: Array<(n: number) => void> = [];

  constructor(opts: AdaptiveConcurrencyOptions = {}) {
    const max = Math.min(MAX_CONCURRENCY, Math.floor(opts.max ?? MAX_CONCURRENCY));
    const min = Math.max(1, Math.floor(opts.min ?? 1));
    if (!(min <= max)) throw new RangeError(`AdaptiveConcurrency: min ${min} is above max ${max}`);
    this.#min = min;
    this.#max = max;
    this.#limit = Math.min(max, Math.max(min, Math.floor(opts.initial ?? 8)));
    this.#current = this.#limit;
  }

  /** The number of requests to keep in flight now. */
  get current(): number {
    return this.#current;
  }

  /** The limit it has settled on: the current one, or while a baseline probe runs at half, the one it returns to. */
  get settled(): number {
    return this.#probeReturn === undefined ? this.#current : Math.max(this.#min, Math.floor(this.#probeReturn));
  }

  /** Called with the new limit whenever it changes (not for the initial value). */
  onChange(cb: (n: number) => void): void {
    this.#listeners.push(cb);
  }

  /** One answered (or failed) request. */
  sample(e: ConcurrencySample): void {
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    if (e.overload) {
      if (!this.#overloadHandled) {
        this.#overloadHandled = true;
        this.#slowStart = false;
        this.#set(this.#limit * OVERLOAD_BACKOFF);
      }
      return;
    }
    if (!Number.isFinite(e.latencyMs) || e.latencyMs < 0) return;
    this.#epoch.push(e.latencyMs);
    if (this.#epoch.length < Math.max(MIN_EPOCH, this.#current)) return;
    this.#endEpoch(lowerQuartile(this.#epoch));
  }

  #endEpoch(latency: number): void {
    if (this.#probeReturn !== undefined) {
      // The probe epoch ran at half the limit: what the server does unloaded now. Blended with
      // the last baseline, so one noisy probe moves it only half way.
      this.#baseline = Number.isFinite(this.#baseline) ? (this.#baseline + latency) / 2 : latency;
      const back = this.#probeReturn;
      this.#probeReturn = undefined;
      this.#set(back);
      return;
    }
    // In slow start the baseline is the lowest epoch seen; after it, only probes move it: a
    // running minimum of noisy epochs drifts ever lower, and every later epoch then looks slow.
    if (this.#slowStart || !Number.isFinite(this.#baseline)) this.#baseline = Math.min(latency, this.#baseline);
    if (!this.#slowStart && ++this.#epochsSinceProbe >= PROBE_EVERY) {
      this.#epochsSinceProbe = 0;
      this.#probeReturn = this.#limit;
      this.#set(this.#limit / 2);
      return;
    }
    // A server answering in no time at all: nothing to compare with, and nothing queues.
    const ratio = this.#baseline > 0 ? latency / this.#baseline : 1;
    const slow = ratio > SHRINK;
    // One slow epoch may be the client's own stall: shrink on two in a row, or one far off.
    const confirmed = slow && (this.#slowBefore || ratio > SHRINK_AT_ONCE);
    this.#slowBefore = slow;
    if (confirmed) {
      this.#slowStart = false;
      // A second shrink with no growth between: check the baseline soon, it may have been a lucky
      // low that makes every epoch look slow. (One shrink is the ordinary step back from the
      // knee; probing after each would halve the limit every few epochs.)
      if (++this.#shrinksInARow >= 2) this.#epochsSinceProbe = Math.max(this.#epochsSinceProbe, PROBE_EVERY - PROBE_AFTER_SHRINK);
      this.#set(this.#limit * Math.min(0.95, Math.max(0.5, GROW / ratio)));
    } else if (slow) {
      this.#newEpoch(0);
    } else if (ratio < GROW) {
      this.#shrinksInARow = 0;
      this.#set(this.#slowStart ? this.#limit + Math.min(this.#limit, SLOW_START_STEP) : this.#limit + Math.max(1, Math.sqrt(this.#limit) / 2));
    } else if (this.#slowStart) {
      // Latency barely moved: go on growing, more carefully.
      this.#set(this.#limit * 1.25);
    } else {
      this.#newEpoch(0);
    }
  }

  #set(limit: number): void {
    const before = this.#current;
    this.#limit = Math.min(this.#max, Math.max(this.#min, limit));
    this.#current = Math.max(this.#min, Math.floor(this.#limit));
    // Answers to requests sent under the old limit (all in flight but the one just answered) say
    // nothing about the new one.
    this.#newEpoch(this.#current !== before ? Math.max(before, this.#current) - 1 : 0);
    if (this.#current !== before) for (const cb of this.#listeners) cb(this.#current);
  }

  #newEpoch(skip: number): void {
    this.#skip = skip;
    this.#epoch = [];
    this.#overloadHandled = false;
  }
}

/**
 * The lower quartile: delays that are not the server's (a stall of this client's event loop, a GC
 * pause, a busy machine) only ever add to some answers, while a server past its capacity slows
 * every answer, the fastest quarter included.
 */
function lowerQuartile(xs: number[]): number {
  const s = xs.sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 4)]!;
}
