#!/usr/bin/env node
/**
 * The command line. Start-up is most of a small run's cost, so this file loads nothing it does not
 * need: `--version` answers from package.json, a plain command line is parsed without yargs
 * (cli-args.ts), and yargs, the run and the simulator are imported only when used.
 */
import { readFileSync } from 'node:fs';
import { describeError, ExitCode } from './errors.js';

/** The package version; the bundle has it inlined at build time, tsc output reads package.json. */
declare const __DA_ROTATE_VERSION__: string | undefined;
function packageVersion(): string {
  if (typeof __DA_ROTATE_VERSION__ === 'string') return __DA_ROTATE_VERSION__;
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

function prerenderedHelp(raw: string[]): string | undefined {
  try {
    const all = JSON.parse(readFileSync(new URL('./cli-help.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>>;
    const width = Math.min(110, process.stderr.columns ?? 100);
    return all[String(width)]?.[raw.join(' ')];
  } catch {
    return undefined; // not built (running from source): yargs renders it
  }
}

function usageError(message: string): never {
  process.stderr.write(`da-rotate: ${message}\nRun \`da-rotate --help\` for usage.\n`);
  // A scheduler asking for --json gets its { error, code, exitCode } line even when the command line is wrong.
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ error: message, code: 'USAGE', exitCode: ExitCode.Usage }) + '\n');
  process.exit(ExitCode.Usage);
}

async function main(): Promise<void> {
  const raw = process.argv.slice(2);
  if (raw.length === 1 && raw[0] === '--version') {
    process.stdout.write(packageVersion() + '\n');
    return;
  }
  if (raw.at(-1) === '--help' && raw.length <= 2) {
    // yargs' help, rendered at build time for the usual widths (see scripts/postbuild.mjs).
    const text = prerenderedHelp(raw);
    if (text !== undefined) {
      process.stdout.write(text);
      return;
    }
  }
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
  const { fastParse, parseWithYargs } = await import('./cli-args.js');
  const onCommand = async ({ command, argv }: import('./cli-args.js').ParsedCommand) => {
    const { runApp } = await import('./app.js');
    exit = await runApp(command, argv, { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, handleSignals: true });
  };
  const fast = fastParse(raw);
  if (fast) await onCommand(fast);
  else await parseWithYargs(raw, { onCommand, onFail: usageError }, packageVersion());
  process.exitCode = exit;
}

main().catch((e: unknown) => {
  process.stderr.write(`da-rotate: internal error: ${describeError(e)}\n`);
  process.exit(ExitCode.Internal);
});
