/**
 * `--concurrency auto`: how many requests to keep in flight, learnt from the server's answers.
 *
 * A latency-gradient limiter with AIMD steps (after Netflix's concurrency-limits and TCP Vegas).
 * Time is counted in samples, not read from a clock: an *epoch* is as many answers as the limit
 * (about one round trip at that limit), so the limiter behaves the same on a 1 ms and a 1 s server
 * and its tests need no timers.
 *
 * - The baseline is the lowest epoch mean latency seen (a mean over many answers, so jitter
 *   averages out). Every PROBE_EVERY epochs the limit is halved for one epoch and that epoch's
 *   mean becomes the baseline (BBR's ProbeRTT): a server that became slower for reasons of its own
 *   is then not read as overloaded forever, and one that recovered is seen to have recovered.
 * - Each epoch compares its mean latency with the baseline. Below GROW (latency holds: a larger
 *   window is more throughput), the limit doubles while in slow start, else grows by one. Above
 *   SHRINK it shrinks in proportion to the excess (at least 5%, at most half). Between, it holds.
 * - An overload signal (5xx, connection reset, timeout) cuts the limit by 30% at once, at most
 *   once an epoch, and ends slow start.
 * - After a change, the answers to requests sent under the old limit (as many as that limit) are
 *   skipped, so an epoch measures the new limit only.
 *
 * On a server that slows by the square of its overload past capacity C (the simulator's degrade
 * mode), throughput peaks near 1.4 C and latency is up 4% at 1.2 C, 9% at 1.3 C: the limit
 * settles around 1.1 to 1.25 C. Authentication failures are not load: callers must not feed them.
 */

export interface AdaptiveConcurrencyOptions {
  /** Where to start (default 4; clamped to [min, max]). */
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
/** Multiplier on an overload signal. */
const OVERLOAD_BACKOFF = 0.7;
/** Epochs between baseline probes (about 3% of the time at half the limit). */
const PROBE_EVERY = 32;
/** Fewest answers an epoch averages, so one slow answer at a low limit does not decide. */
const MIN_EPOCH = 8;
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
  #epochCount = 0;
  #epochSum = 0;
  #overloadHandled = false;
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
    this.#limit = Math.min(max, Math.max(min, Math.floor(opts.initial ?? 4)));
    this.#current = this.#limit;
  }

  /** The number of requests to keep in flight now. */
  get current(): number {
    return this.#current;
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
    this.#epochSum += e.latencyMs;
    this.#epochCount++;
    if (this.#epochCount < Math.max(MIN_EPOCH, this.#current)) return;
    this.#endEpoch(this.#epochSum / this.#epochCount);
  }

  #endEpoch(mean: number): void {
    if (this.#probeReturn !== undefined) {
      // The probe epoch ran at half the limit: its mean is what the server does unloaded now.
      this.#baseline = mean;
      const back = this.#probeReturn;
      this.#probeReturn = undefined;
      this.#set(back);
      return;
    }
    this.#baseline = Math.min(mean, this.#baseline);
    if (!this.#slowStart && ++this.#epochsSinceProbe >= PROBE_EVERY) {
      this.#epochsSinceProbe = 0;
      this.#probeReturn = this.#limit;
      this.#set(this.#limit / 2);
      return;
    }
    // A server answering in no time at all: nothing to compare with, and nothing queues.
    const ratio = this.#baseline > 0 ? mean / this.#baseline : 1;
    if (ratio > SHRINK) {
      this.#slowStart = false;
      this.#set(this.#limit * Math.min(0.95, Math.max(0.5, GROW / ratio)));
    } else if (ratio < GROW) {
      this.#set(this.#slowStart ? this.#limit * 2 : this.#limit + Math.max(1, Math.sqrt(this.#limit) / 2));
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
    this.#newEpoch(this.#current !== before ? before - 1 : 0);
    if (this.#current !== before) for (const cb of this.#listeners) cb(this.#current);
  }

  #newEpoch(skip: number): void {
    this.#skip = skip;
    this.#epochCount = 0;
    this.#epochSum = 0;
    this.#overloadHandled = false;
  }
}
