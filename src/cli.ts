#!/usr/bin/env node
/**
 * The command line: thin. yargs parses it (cli-args.ts), app.ts runs the command; the simulator has
 * its own command line and is imported only when asked for.
 */
import { describeError, ExitCode } from './errors.js';
import { packageVersion } from './version.js';

function usageError(message: string): never {
  process.stderr.write(`da-rotate: ${message}\nRun \`da-rotate --help\` for usage.\n`);
  // A scheduler asking for --json gets its { error, code, exitCode } line even when the command line is wrong.
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: message, code: 'USAGE', exitCode: ExitCode.Usage }) + '\n');
  process.exit(ExitCode.Usage);
}

async function main(): Promise<void> {
  const raw = process.argv.slice(2);
  if (raw[0] === 'simulate') {
    // The simulator has its own small CLI; hand it the rest of the arguments untouched.
    const { runSimulatorMain } = await import('./simulator/main.js');
    let code: number;
    try {
      code = await runSimulatorMain(raw.slice(1));
    } catch (e) {
      process.stderr.write(`da-rotate simulate: ${describeError(e)}\nRun \`da-rotate simulate --help\` for usage.\n`);
      code = ExitCode.Usage;
    }
    // The control channel on stdin would otherwise keep the process alive.
    process.exit(code);
  }
  // If the event loop ever drained before a command finished, that is a bug, not a success.
  process.exitCode = ExitCode.Internal;
  let exit: number = ExitCode.Ok;
  const { parseWithYargs } = await import('./cli-args.js');
  const onCommand = async ({ command, argv }: import('./cli-args.js').ParsedCommand) => {
    const { runApp } = await import('./app.js');
    exit = await runApp(command, argv, { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, handleSignals: true });
  };
  await parseWithYargs(raw, { onCommand, onFail: usageError }, packageVersion());
  process.exitCode = exit;
}

main().catch((e: unknown) => {
  process.stderr.write(`da-rotate: internal error: ${describeError(e)}\n`);
  process.exit(ExitCode.Internal);
});
