/**
 * Command-line parsing in two tiers. yargs defines the CLI (commands, help, every error message),
 * but loading it costs about 100 ms, most of a small run's start-up. So a well-formed command
 * line is first parsed by `fastParse` (node:util parseArgs driven by the same options table); it
 * returns what yargs would have handed the command, or `undefined` for anything it is not sure
 * of (help, an unknown or repeated option, a value yargs would coerce or refuse, extra words),
 * and then yargs parses the line as before. test/cli/args.test.ts checks both agree.
 */
import { parseArgs } from 'node:util';
import type { Argv as Yargs } from 'yargs';
// The table and the command list only: the resolvers behind ./options.js are not needed to parse.
import { COMMANDS, type CommandName, type CommandSpec } from './options/commands.js';
import { optionsFor } from './options/table.js';
import type { OptionSpec, RawArgv } from './options/types.js';

export { COMMANDS };
export type AppCommandName = CommandName;

export interface ParsedCommand {
  command: CommandName;
  /** As yargs hands it over (kebab-case and camelCase keys, aliases); app.ts checks it as it reads it. */
  argv: RawArgv;
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** Numbers yargs would read the same way Number() does; anything else is left to yargs. */
const PLAIN_NUMBER = /^(0|[1-9]\d*)(\.\d+)?$/;

/** Sets a value under its name and the camelCase and alias names yargs also fills in. */
function put(out: Record<string, unknown>, name: string, spec: OptionSpec, value: unknown): void {
  out[name] = value;
  const c = camel(name);
  if (c !== name) out[c] = value;
  if (spec.alias) out[spec.alias] = value;
}

/** The yargs result for a plain, valid command line, or undefined to let yargs decide. */
export function fastParse(raw: readonly string[]): ParsedCommand | undefined {
  const command = raw[0] as CommandName | undefined;
  if (!command || !Object.hasOwn(COMMANDS, command)) return undefined;
  const specs = optionsFor(command);
  const config: Record<string, { type: 'string' | 'boolean'; multiple: true; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string', multiple: true };
    if (spec.alias?.length === 1) config[name].short = spec.alias;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: raw.slice(1), options: config, strict: true, allowPositionals: true });
  } catch {
    return undefined; // unknown option, missing value, --help, --no-x, an option-like value...
  }
  const positional = (COMMANDS[command] as CommandSpec).positional;
  const positionals = parsed.positionals.length;
  if (positional ? positionals > 1 || (positionals === 0 && !positional.optional) : positionals > 0) return undefined;
  // `--` ends the options for both, but yargs keeps what follows apart: leave that to it.
  if (raw.includes('--')) return undefined;

  const out: Record<string, unknown> = { _: [command] };
  for (const [name, spec] of Object.entries(specs)) {
    const given = parsed.values[name] as Array<string | boolean> | undefined;
    if (given === undefined) {
      if (spec.default !== undefined) put(out, name, spec, spec.default);
      continue;
    }
    if (spec.type === 'array') {
      // yargs turns number-like words of an untyped array into numbers: leave those to it.
      if (given.some((v) => typeof v !== 'string' || v === '' || /^[\d.+-]|^0x/i.test(v))) return undefined;
      put(out, name, spec, given);
      continue;
    }
    if (given.length !== 1) return undefined; // yargs makes an array of a repeated option
    const v = given[0]!;
    if (spec.type === 'boolean') {
      put(out, name, spec, v);
    } else if (spec.type === 'number') {
      if (typeof v !== 'string' || !PLAIN_NUMBER.test(v)) return undefined;
      put(out, name, spec, Number(v));
    } else {
      if (typeof v !== 'string' || v === '') return undefined;
      if (spec.choices && !spec.choices.includes(v)) return undefined;
      put(out, name, spec, v);
    }
  }
  if (positional && positionals === 1) out[positional.name] = parsed.positionals[0];
  out.$0 = 'da-rotate';
  return { command, argv: out };
}

export interface YargsHandlers {
  /** A command parsed: run it; resolves when it is done. */
  onCommand: (parsed: ParsedCommand) => Promise<void>;
  /** A usage error (yargs' message): print it and exit 2. */
  onFail: (message: string) => void;
}

function withOptions(y: Yargs, command: CommandName): Yargs {
  for (const [name, spec] of Object.entries(optionsFor(command))) {
    y.option(name, {
      type: spec.type,
      describe: spec.describe,
      group: spec.group,
      ...(spec.default !== undefined ? { default: spec.default } : {}),
      ...(spec.choices ? { choices: [...spec.choices] } : {}),
      ...(spec.alias ? { alias: spec.alias } : {}),
    });
  }
  return y;
}

/** The width yargs wraps help to (the terminal's, at most 110; 100 when not a terminal). */
export function helpWidth(): number {
  return Math.min(110, process.stderr.columns ?? 100);
}

/** The command lines whose help the build renders ahead (scripts/postbuild.mjs, dist/cli-help.json). */
export const HELP_LINES: readonly string[][] = [['--help'], ...Object.keys(COMMANDS).map((c) => [c, '--help'])];
export const HELP_WIDTHS: readonly number[] = [80, 100, 110];

/** The full yargs CLI (help, version, every usage error); loaded only when fastParse declines. */
export async function parseWithYargs(raw: readonly string[], handlers: YargsHandlers, version: string, width = helpWidth()): Promise<void> {
  const { default: yargs } = await import('yargs');
  const run = (command: CommandName) => async (argv: Record<string, unknown>) => handlers.onCommand({ command, argv });
  let y = yargs([...raw])
    .scriptName('da-rotate')
    .usage('$0 <command> [options]\n\nRotate the passwords of the accounts on a DirectAdmin server.');
  for (const [name, c] of Object.entries(COMMANDS) as Array<[CommandName, CommandSpec]>) {
    const p = c.positional;
    y = y.command(
      p ? (p.optional ? `${name} [${p.name}]` : `${name} <${p.name}>`) : name,
      c.describe,
      (b) => (p ? withOptions(b, name).positional(p.name, { type: 'string', describe: p.describe }) : withOptions(b, name)),
      run(name),
    );
  }
  await y
    .command(
      'simulate',
      'Start the bundled DirectAdmin simulator (see simulate --help)',
      () => undefined,
      () => undefined,
    )
    .demandCommand(1, 'name a command: rotate, plan, resume, verify, notify, key-scope, prune or simulate')
    .recommendCommands()
    .strict()
    .epilogue(
      'Exit codes: 0 all done, 1 some failed or unknown, 2 usage error, 3 aborted (authentication, blacklist, TLS, lock), 4 internal error, 130 interrupted.\nSecrets come from DA_URL, DA_LOGIN_KEY, DA_PASSWORD, --password-file or --password-stdin; never from argv.',
    )
    .fail((message, error) => {
      if (error) throw error;
      handlers.onFail(message);
    })
    .help()
    .version(version)
    .wrap(width)
    .parseAsync();
}
