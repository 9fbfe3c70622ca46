/** The commands (the simulator is handed over before parsing) and the positional argument each takes. */
export type CommandName = 'rotate' | 'plan' | 'key-scope' | 'resume' | 'verify' | 'notify' | 'prune';

export interface CommandSpec {
  describe: string;
  positional?: { name: 'journal' | 'report'; describe: string; optional?: boolean };
}

export const COMMANDS = {
  rotate: { describe: 'Rotate the credentials of the selected accounts (--include for more than account passwords)' },
  plan: { describe: 'Dry run: list every credential that would be touched, change nothing' },
  resume: {
    describe: 'Finish an interrupted run from its journal (or a fleet run: --run ID)',
    positional: { name: 'journal', describe: 'the .journal.jsonl file', optional: true },
  },
  verify: {
    describe: "Re-check a report's rotated passwords against the server, changing nothing (or a fleet run's: --run ID)",
    positional: { name: 'report', describe: 'the report CSV (or .csv.age with --identity)', optional: true },
  },
  notify: { describe: 'Send each account owner their new credentials (or a one-time login link) from a report' },
  'key-scope': { describe: 'Print the smallest login-key allow-list for these options (--accounts N: the "Max uses" a run needs)' },
  prune: { describe: 'Delete old reports and journals (the newest --keep N runs of each server stay; a journal with unsettled credentials always stays)' },
} as const satisfies Record<CommandName, CommandSpec>;
