/**
 * The types of the command line, derived from the options table (table.ts) and the command list
 * (commands.ts): a new option or a changed `type`, `default` or `commands` changes them at once.
 */
import type { COMMANDS, CommandName } from './commands.js';
import type { OptionName, Options } from './table.js';

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean' | 'array';
  describe: string;
  /** A command whose help needs other words (plan's default file name). */
  describeFor?: Partial<Record<CommandName, string>>;
  default?: string | number | boolean;
  choices?: readonly string[];
  group: string;
  commands: readonly CommandName[];
  alias?: string;
  // What the validator accepts (validate.ts). None of these reaches yargs or the help text.
  /** A number from min to max (a string option: one written in digits); whole: no fractions. */
  range?: { readonly min: number; readonly max: number; readonly whole?: boolean };
  /** The word a string option with a range also takes instead of a number (--concurrency auto). */
  word?: string;
  pattern?: RegExp;
  /** A duration (90s, 15m, 2h; 'd': days too), read as milliseconds; at least 1s. */
  duration?: 'h' | 'd';
  /** Given empty: a usage error, where other options read empty as not given. */
  needsValue?: true;
  /** The error for a value outside range or pattern, when not the generic one: {got} the value given, {value} as typed. */
  invalid?: string;
}

/** The command line as a parser hands it over (yargs, the fast path, a test): kebab-case keys, nothing checked yet. */
export type RawArgv = Readonly<Record<string, unknown>>;
export type Env = Record<string, string | undefined>;

/** 'retry-delay' -> 'retryDelay': the code reads options by these names (yargs fills them in too). */
export type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** What an option is read as. A string option with a range is a number (or its word); a duration is milliseconds. */
export type ValueOf<S extends OptionSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'array' }
    ? string[]
    : S extends { type: 'number' } | { duration: string }
      ? number
      : S extends { range: object; word: infer W extends string }
        ? number | W
        : S extends { range: object }
          ? number
          : S extends { choices: ReadonlyArray<infer C extends string> }
            ? C
            : string;

/** Not given: undefined, unless the table has a default; a list is empty. */
export type Parsed<S extends OptionSpec> = S extends { default: unknown } | { type: 'array' } ? ValueOf<S> : ValueOf<S> | undefined;

/** Every option of a table under its camelCase name, with the type it is read as. */
export type ParsedArgv<T extends Record<string, OptionSpec>> = { readonly [K in keyof T & string as Camel<K>]: Parsed<T[K]> };

/** The positional arguments: resume's journal, verify's report (one field with notify's --report). */
type Positionals = { readonly journal: string | undefined; readonly report: string | undefined };

/** The checked command line (validate.ts: checkedArgv): every option, read and checked by name. */
export type Argv = ParsedArgv<Options> & Positionals;

/** The options every command of C takes. */
export type OptionsOf<C extends CommandName> = { [K in OptionName]: [C] extends [Options[K]['commands'][number]] ? K : never }[OptionName];
type PositionalOf<C extends CommandName> = (typeof COMMANDS)[C] extends { positional: { name: infer N extends keyof Positionals } } ? N : never;

/** A command's view of the command line: `ArgvOf<'prune'>` has --keep and --dir, and no --server. */
export type ArgvOf<C extends CommandName> = Pick<Argv, Camel<OptionsOf<C>> | PositionalOf<C>>;
