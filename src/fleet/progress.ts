/**
 * The fleet's terminal output: on a terminal, one line per server redrawn in place (cursor
 * movement) while servers run; elsewhere, one line per server as it finishes. Log lines go through
 * writeAbove() so they never tear the drawn block.
 */
import type { ProgressEvent } from '../rotation/run.js';
import { formatProgress } from '../messages.js';
import { formatOutcome, formatServerLine } from './summary.js';
import type { ManifestServer } from './manifest.js';

export interface FleetDisplay {
  /** Progress of one server's run (from RunContext.onProgress). */
  progress(name: string, p: ProgressEvent): void;
  /** The server's state changed (started, finished). */
  update(s: ManifestServer): void;
  /** Text that must not be overdrawn (logs, messages). */
  writeAbove(text: string): void;
  close(): void;
}

function progressLine(name: string, width: number, s: ManifestServer | undefined, p: ProgressEvent | undefined): string {
  const label = name.padEnd(width);
  if (s && s.status !== 'running' && s.status !== 'pending') return `${label}  ${formatOutcome(s)}`;
  if (!s || s.status === 'pending') return `${label}  waiting`;
  if (!p) return `${label}  connecting`;
  if (p.phase) return `${label}  ${formatProgress({ ...p, server: undefined })}`;
  const c = p.counts;
  const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100;
  return `${label}  ${String(pct).padStart(3)}% ${p.done}/${p.total}  rotated ${c.rotated}, failed ${c.failed}, unknown ${c.unknown}  (${p.concurrency} in flight)`;
}

/** Draws in place on a terminal. */
export class TerminalDisplay implements FleetDisplay {
  private readonly states = new Map<string, ManifestServer>();
  private readonly latest = new Map<string, ProgressEvent>();
  private drawn = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly width: number;

  constructor(
    private readonly out: NodeJS.WritableStream & { rows?: number; columns?: number },
    private readonly names: readonly string[],
  ) {
    this.width = Math.min(24, Math.max(...names.map((n) => n.length)));
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  progress(name: string, p: ProgressEvent): void {
    this.latest.set(name, { ...p, counts: { ...p.counts } });
  }

  update(s: ManifestServer): void {
    this.states.set(s.name, { ...s });
  }

  private lines(): string[] {
    // A terminal that reports no size (columns 0) gets 100.
    const cols = Math.max(20, (this.out.columns || 100) - 1);
    const room = Math.max(3, (this.out.rows || 24) - 2);
    let names = [...this.names];
    const extra: string[] = [];
    if (names.length > room) {
      // More servers than rows: the running ones, then one line for the rest.
      const running = names.filter((n) => this.states.get(n)?.status === 'running').slice(0, room - 1);
      const done = names.filter((n) => !['running', 'pending', undefined].includes(this.states.get(n)?.status)).length;
      extra.push(`... ${names.length - running.length} more: ${done} finished, ${names.length - running.length - done} waiting`);
      names = running;
    }
    return [...names.map((n) => progressLine(n, this.width, this.states.get(n), this.latest.get(n))), ...extra].map((l) => l.slice(0, cols));
  }

  private erase(): string {
    return this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
  }

  private draw(): void {
    const lines = this.lines();
    this.out.write(this.erase() + lines.map((l) => `${l}\n`).join(''));
    this.drawn = lines.length;
  }

  writeAbove(text: string): void {
    const erase = this.erase();
    this.drawn = 0;
    this.out.write(erase + text);
    this.draw();
  }

  close(): void {
    clearInterval(this.timer);
    this.draw();
  }
}

/** A line per server as it finishes (stderr is not a terminal). */
export class LineDisplay implements FleetDisplay {
  constructor(private readonly out: NodeJS.WritableStream) {}
  progress(): void {}
  update(s: ManifestServer): void {
    if (s.status !== 'running' && s.status !== 'pending') this.out.write(`${formatServerLine(s)}\n`);
  }
  writeAbove(text: string): void {
    this.out.write(text);
  }
  close(): void {}
}

/** --quiet: a line only for a server that did not end well; log lines (errors only) pass through. */
export class QuietDisplay implements FleetDisplay {
  constructor(private readonly out: NodeJS.WritableStream) {}
  progress(): void {}
  update(s: ManifestServer): void {
    if (s.status !== 'running' && s.status !== 'pending' && s.status !== 'ok') this.out.write(`${formatServerLine(s)}\n`);
  }
  writeAbove(text: string): void {
    this.out.write(text);
  }
  close(): void {}
}
