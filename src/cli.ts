#!/usr/bin/env node
/** The command line: yargs commands built from the options table, nothing else. */
import yargs, { type Argv as Yargs } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runApp, type AppCommand } from './app.js';
import { ExitCode } from './errors.js';
import { optionsFor, type CommandName } from './options.js';

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

async function main(): Promise<void> {
  const raw = hideBin(process.argv);
  if (raw[0] === 'simulate') {
    // The simulator has its own small CLI; hand it the rest of the arguments untouched.
    const { runSimulatorMain } = await import('./simulator/main.js');
    let code: number;
    try {
      code = await runSimulatorMain(raw.slice(1));
    } catch (e) {
      process.stderr.write(`da-rotate simulate: ${e instanceof Error ? e.message : String(e)}\nRun \`da-rotate simulate --help\` for usage.\n`);
      code = ExitCode.Usage;
    }
    // The control channel on stdin would otherwise keep the process alive.
    process.exit(code);
  }
  // If the event loop ever drained before a command finished, that is a bug, not a success.
  process.exitCode = ExitCode.Internal;
  let exit: number = ExitCode.Ok;
  const run = (command: AppCommand) => async (argv: Record<string, unknown>) => {
    exit = await runApp(command, argv, { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, handleSignals: true });
  };
  await yargs(raw)
    .scriptName('da-rotate')
    .usage('$0 <command> [options]\n\nRotate the passwords of the accounts on a DirectAdmin server.')
    .command('rotate', 'Rotate the passwords of the selected accounts', (y) => withOptions(y, 'rotate'), run('rotate'))
    .command('plan', 'Dry run: select and check the accounts, change nothing', (y) => withOptions(y, 'plan'), run('plan'))
    .command('notify', "Send each account owner their new credentials (or a one-time login link) from a report", (y) => withOptions(y, 'notify'), run('notify'))
    .command('resume [journal]', 'Finish an interrupted run from its journal (or a fleet run: --run ID)', (y) => withOptions(y, 'resume').positional('journal', { type: 'string', describe: 'the .journal.jsonl file' }), run('resume'))
    .command('verify [report]', "Re-check a report's rotated passwords against the server, changing nothing (or a fleet run's: --run ID)", (y) => withOptions(y, 'verify').positional('report', { type: 'string', describe: 'the report CSV' }), run('verify'))
    .command('key-scope', 'Print the smallest login-key allow-list for these options', (y) => withOptions(y, 'key-scope'), run('key-scope'))
    .command('simulate', 'Start the bundled DirectAdmin simulator (see simulate --help)', () => undefined, () => undefined)
    .demandCommand(1, 'name a command: rotate, plan, resume, verify, notify, key-scope or simulate')
    .strict()
    .epilogue('Exit codes: 0 all done, 1 some failed or unknown, 2 usage error, 3 aborted (authentication, blacklist, TLS, lock), 4 internal error, 130 interrupted.\nSecrets come from DA_URL, DA_LOGIN_KEY, DA_PASSWORD, --password-file or --password-stdin; never from argv.')
    .fail((message, error, y) => {
      if (error) throw error;
      process.stderr.write(`da-rotate: ${message}\nRun \`da-rotate --help\` for usage.\n`);
      void y;
      process.exit(ExitCode.Usage);
    })
    .help()
    .version()
    .wrap(Math.min(110, process.stderr.columns ?? 100))
    .parseAsync();
  process.exitCode = exit;
}

main().catch((e: unknown) => {
  process.stderr.write(`da-rotate: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(ExitCode.Internal);
});
