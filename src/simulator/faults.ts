/**
 * Which fault fires on which request. Every fault is a FaultRate: a probability, fixed targets,
 * a total limit, and the commands it may hit (default: write requests only, as the simulator
 * always did for CMD_API_USER_PASSWD).
 */
import type { FaultName, FaultRate, Faults } from './types.js';

/** Checked in this order before the command runs: nothing is applied. */
export const FAULTS_BEFORE = ['hang', 'resetBeforeApply', 'error500'] as const satisfies readonly FaultName[];
/** Checked in this order after the command ran (applied, or computed for a read); not after a refused write. */
export const FAULTS_AFTER = ['resetAfterApply', 'emptyAfterApply', 'htmlAfterApply'] as const satisfies readonly FaultName[];
// `trickle` is checked last, on every answer, refusals included.

export interface FaultTarget {
  /** Command name or JSON API route. */
  command: string;
  /** The path as sent. */
  path: string;
  write: boolean;
  /** Account and credential names the request acts on. */
  targets: string[];
}

const WRITE_COMMANDS = new Set(['CMD_API_USER_PASSWD', 'CMD_API_LOGIN_KEYS']);
const WRITE_ACTIONS = new Set(['CMD_API_POP', 'CMD_API_FTP']);

/** Whether a request is a write (the default scope of every fault). */
export function isWrite(command: string, method: string, action: string | undefined): boolean {
  if (command.startsWith('/api/')) return method === 'POST' || method === 'DELETE' || method === 'PUT' || method === 'PATCH';
  if (method !== 'POST') return false;
  if (WRITE_COMMANDS.has(command)) return true;
  return WRITE_ACTIONS.has(command) && action === 'modify';
}

function matchesCommand(f: FaultRate, t: FaultTarget): boolean {
  if (!f.commands) return t.write;
  for (const p of f.commands) {
    if (p === '*' || p === t.command || p === t.path) return true;
    if (p.startsWith('/') && (t.command.startsWith(p + '/') || t.path.startsWith(p + '/'))) return true;
  }
  return false;
}

export class FaultInjector {
  #faults: Faults = {};
  readonly #fired = new Map<FaultName, number>();

  constructor(
    private readonly rnd: () => number,
    private readonly firedStats: Record<string, number>,
  ) {}

  get faults(): Faults {
    return this.#faults;
  }

  set(f: Faults): void {
    this.#faults = { ...f };
    this.#fired.clear();
  }

  /** Whether fault `name` fires on this request (counting it when it does). */
  fires(name: FaultName, t: FaultTarget): boolean {
    const f: FaultRate | undefined = this.#faults[name];
    if (!f || !matchesCommand(f, t)) return false;
    const fired = this.#fired.get(name) ?? 0;
    if (f.limit !== undefined && fired >= f.limit) return false;
    const hit = (f.users !== undefined && t.targets.some((u) => f.users!.includes(u))) || (f.rate !== undefined && f.rate > 0 && this.rnd() < f.rate);
    if (!hit) return false;
    this.#fired.set(name, fired + 1);
    this.firedStats[name] = (this.firedStats[name] ?? 0) + 1;
    return true;
  }
}
