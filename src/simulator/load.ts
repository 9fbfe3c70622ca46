/**
 * How busy the server is: the FIFO capacity queue (`faults.capacity`), the latency of every
 * request, and the degrading mode (`faults.degrade`) where latency grows with the overload.
 */
import type { Faults, SimulatorStats } from './types.js';

export class Load {
  readonly #queue: Array<() => void> = [];

  constructor(
    private readonly stats: SimulatorStats,
    private readonly faults: () => Faults,
    private readonly rnd: () => number,
  ) {}

  /** Undefined when the request may start now; else a promise resolved when its turn comes. */
  enter(): Promise<void> | undefined {
    const cap = this.faults().capacity;
    if (!cap || cap <= 0 || (this.stats.processing < cap && this.#queue.length === 0)) {
      this.#started();
      return undefined;
    }
    return new Promise<void>((resolve) => this.#queue.push(resolve));
  }

  leave(): void {
    this.stats.processing--;
    this.pump();
  }

  pump(): void {
    const cap = this.faults().capacity;
    while (this.#queue.length > 0 && (!cap || cap <= 0 || this.stats.processing < cap)) {
      const next = this.#queue.shift()!;
      this.#started();
      next();
    }
  }

  /** Drops the waiting requests (the simulator is closing). */
  clear(): void {
    this.#queue.length = 0;
  }

  /** This request's latency in ms, computed as it starts processing (see Faults.degrade). */
  latency(): number {
    const f = this.faults();
    let base = f.latencyMs ?? 0;
    if (f.degrade && f.degrade.capacity > 0) {
      base = f.degrade.baseMs ?? base;
      const overload = Math.max(0, this.stats.processing / f.degrade.capacity - 1);
      base *= 1 + overload * overload;
    }
    return base + (f.jitterMs ? this.rnd() * f.jitterMs : 0);
  }

  #started(): void {
    const s = this.stats;
    s.processing++;
    if (s.processing > s.maxProcessing) s.maxProcessing = s.processing;
  }
}
