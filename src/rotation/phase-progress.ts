/**
 * Progress before the first change: a line from the first second (logging in, then listing with
 * the accounts and credentials found so far), so a run that lists for seconds is never silent.
 * The dispatch's own progress (changes) takes over from there.
 */
import type { ProgressEvent, RunContext } from './skeleton.js';
import { emptyCounts } from './state.js';

export type Phase = { phase: 'login' } | { phase: 'listing'; accounts?: number; credentials: number; fraction?: number };

export class PhaseProgress {
  private timer: NodeJS.Timeout | undefined;
  private current: ProgressEvent | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly server: () => string,
  ) {}

  /** The run entered a phase (or learned more in it): drawn now on a change of phase, else on the next tick. */
  set(p: Phase): void {
    if (!this.ctx.onProgress) return;
    const changed = this.current?.phase !== p.phase;
    this.current = { server: this.server(), done: 0, total: 0, counts: emptyCounts(), concurrency: 0, rate: 0, ...p };
    if (changed) this.emit();
    if (!this.timer) {
      this.timer = setInterval(() => this.emit(), 250);
      this.timer.unref();
    }
  }

  private emit(): void {
    if (this.current) this.ctx.onProgress?.(this.current);
  }

  /** Before a prompt, the dispatch's own progress, or the end. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.current = undefined;
  }
}
