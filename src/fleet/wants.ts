/** Whether a command line is a fleet run: kept apart so the CLI can decide without loading the fleet code. */
import type { Argv } from '../options.js';

/** True when app.ts should hand the command to runFleet. */
export function wantsFleet(command: string, argv: Argv): boolean {
  if (argv.inventory !== undefined || argv.run !== undefined) return true;
  // `resume` and `verify` take their positional only without a fleet: name one or the other.
  return (command === 'resume' && argv.journal === undefined) || (command === 'verify' && argv.report === undefined);
}
