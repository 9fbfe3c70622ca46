/**
 * The one validator: reads an option from the command line as its table entry says (type, default,
 * range, choices, pattern, duration) and refuses anything else with a one-line usage error. Every
 * other module reads options through `checkedArgv`, by typed camelCase names.
 */
import { UsageError } from '../errors.js';
import { OPTIONS, type OptionName } from './table.js';
import type { Argv, Camel, OptionSpec, RawArgv } from './types.js';

/** What a resolver accepts: the command line as parsed, or the checked view of it (read once). */
export type ArgvInput = RawArgv | Argv;

/** 90, 90s, 15m, 2h: a duration in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 90s, 15m or 2h (got ${text})`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 1000) throw new UsageError(`${flag} must be at least 1s (got ${text})`);
  return ms;
}

/** The entry's own error if it has one ({got}: how the value given is named, {value}: as typed). */
function refuse(name: OptionName, spec: OptionSpec, got: string, value: string, generic: string): UsageError {
  return new UsageError(spec.invalid ? spec.invalid.replace('{got}', got).replace('{value}', value) : generic);
}

/** A number option (or a string option with a range: --concurrency), checked against its range. */
function rangedValue(name: OptionName, spec: OptionSpec, raw: unknown): number | string {
  let v: number;
  let got: string;
  if (spec.type === 'string') {
    const text = String(raw).trim();
    if (spec.word && text.toLowerCase() === spec.word) return spec.word;
    v = /^\d+$/.test(text) ? Number(text) : NaN;
    got = `got ${JSON.stringify(text)}`;
  } else {
    v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    // yargs hands a word given to a number option over as NaN: the word itself is gone.
    got = typeof raw === 'number' && Number.isNaN(raw) ? 'a word that is not a number was given' : `got ${JSON.stringify(raw)}`;
  }
  const { min, max, whole } = spec.range ?? { min: -Infinity, max: Infinity };
  if (!Number.isFinite(v) || v < min || v > max) throw refuse(name, spec, got, String(raw), `--${name} must be a number from ${min} to ${max} (${got})`);
  if (whole && !Number.isInteger(v)) throw refuse(name, spec, got, String(raw), `--${name} must be a whole number (got ${v})`);
  return v;
}

/** A repeatable or comma-separated option's values; given with no value at all, a usage error. */
function listValue(name: OptionName, raw: unknown): string[] {
  if (raw === undefined) return [];
  const items: unknown[] = Array.isArray(raw) ? raw : [raw];
  const out = items
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  // `--exclude` with no value (or only commas) would silently exclude nothing.
  if (out.length === 0) throw new UsageError(`--${name} needs a value (e.g. --${name} NAME); give one or leave the flag out`);
  return out;
}

/** "users" or "all"; "a", "b" or "c". */
function oneOf(choices: readonly string[]): string {
  const quoted = choices.map((c) => JSON.stringify(c));
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}` : quoted.join('');
}

/** Option `name` as its table entry says to read it; throws a UsageError naming the flag and the fix. */
export function optionValue<K extends OptionName>(raw: RawArgv, name: K): Argv[Camel<K>];
export function optionValue(raw: RawArgv, name: OptionName): unknown {
  const spec: OptionSpec = OPTIONS[name];
  const given = raw[name];
  if (spec.type === 'boolean') return given === undefined ? spec.default : given === true;
  if (spec.type === 'array') return listValue(name, given);
  if (given === undefined || given === null) return spec.default;
  if (spec.type === 'number') return rangedValue(name, spec, given);
  if (Array.isArray(given)) throw new UsageError(`--${name} was given more than once; give it once`);
  if (spec.range) return rangedValue(name, spec, given);
  const text = String(given);
  if (spec.duration) {
    const days = spec.duration === 'd' ? /^(\d+(?:\.\d+)?)\s*d$/.exec(text.trim()) : null;
    return days ? Math.round(Number(days[1]) * 86_400_000) : parseDuration(text, `--${name}`);
  }
  if (text === '') {
    if (spec.needsValue) throw new UsageError(`--${name} needs a value; give one or leave the flag out`);
    return spec.default;
  }
  if (spec.choices && !spec.choices.includes(text)) throw new UsageError(`--${name} must be ${oneOf(spec.choices)}`);
  if (spec.pattern && !spec.pattern.test(text)) throw refuse(name, spec, `got ${JSON.stringify(text)}`, text, `--${name} must match ${String(spec.pattern)}`);
  return text;
}

/** Whether an option was on the command line at all (even with a value that would be refused). */
export function optionGiven(argv: ArgvInput, name: OptionName): boolean {
  const v = rawOf(argv)[name];
  return v !== undefined && v !== false && v !== '';
}

const RAW = Symbol('the command line as parsed');
const VALUES = Symbol('values read so far');
interface CheckedArgv {
  [RAW]: RawArgv;
  [VALUES]: Map<string, unknown>;
}

function rawOf(argv: ArgvInput): RawArgv {
  return RAW in argv ? (argv as unknown as CheckedArgv)[RAW] : argv;
}

/**
 * Each option is checked when it is first read, not all at once: so the resolvers still find their
 * problems in their own order (app.ts lists every flag error together, notify names a missing
 * --report before a bad --rate), exactly as when each checked its own flags.
 */
const checkedPrototype: object = {};
for (const name of Object.keys(OPTIONS) as OptionName[]) {
  Object.defineProperty(
    checkedPrototype,
    name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
    {
      get(this: CheckedArgv) {
        if (!this[VALUES].has(name)) this[VALUES].set(name, optionValue(this[RAW], name));
        return this[VALUES].get(name);
      },
    },
  );
}
// resume's journal; verify's report is the --report option's field.
Object.defineProperty(checkedPrototype, 'journal', {
  get(this: CheckedArgv) {
    const v = this[RAW].journal;
    return typeof v === 'string' ? v : undefined;
  },
});

/** The command line with every option typed and checked (on first read); a checked one is returned as is. */
export function checkedArgv(argv: ArgvInput): Argv {
  if (RAW in argv) return argv as Argv;
  const checked = Object.create(checkedPrototype) as CheckedArgv;
  checked[RAW] = argv;
  checked[VALUES] = new Map();
  return checked as unknown as Argv;
}
