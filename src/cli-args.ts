/**
 * The command line, parsed by yargs: every command, its options (from the options table), its help
 * (that command's options, examples and exit codes only) and every usage error.
 */
import yargs, { type Argv as Yargs } from 'yargs';
import { COMMANDS, type CommandName, type CommandSpec } from './options/commands.js';
import { optionsFor } from './options/table.js';
import type { RawArgv } from './options/types.js';

export { COMMANDS };
export type AppCommandName = CommandName;

export interface ParsedCommand {
  command: CommandName;
  /** As yargs hands it over (kebab-case and camelCase keys, aliases); app.ts checks it as it reads it. */
  argv: RawArgv;
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

/** The whole CLI: every command line goes through here (help, version, every usage error). */
export async function parseWithYargs(raw: readonly string[], handlers: YargsHandlers, version: string, width = helpWidth()): Promise<void> {
  const run = (command: CommandName) => async (argv: Record<string, unknown>) => handlers.onCommand({ command, argv });
  let y = yargs([...raw])
    .scriptName('da-rotate')
    .usage('$0 <command> [options]\n\nRotate the passwords of the accounts on a DirectAdmin server.');
  for (const [name, c] of Object.entries(COMMANDS) as Array<[CommandName, CommandSpec]>) {
    const p = c.positional;
    y = y.command(
      p ? (p.optional ? `${name} [${p.name}]` : `${name} <${p.name}>`) : name,
      c.describe,
      (b) => {
        const withPositional = p ? withOptions(b, name).positional(p.name, { type: 'string', describe: p.describe }) : withOptions(b, name);
        for (const [line, what] of c.examples ?? []) withPositional.example(line, what);
        return withPositional.epilogue(`Exit codes: ${c.exits}.`);
      },
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
      'Exit codes: 0 all done, 1 some failed or unknown, 2 usage error, 3 aborted (authentication, blacklist, TLS, lock), 4 internal error, 5 previous run unfinished (resume it), 130 interrupted.\nSecrets come from DA_URL, DA_LOGIN_KEY, DA_PASSWORD, --password-file or --password-stdin; never from argv.',
    )
    .fail((message, error) => {
      if (error) throw error;
      handlers.onFail(message);
    })
    .help()
    .alias('h', 'help')
    .version(version)
    .wrap(width)
    .parseAsync();
}
