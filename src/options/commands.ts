/** The commands (the simulator is handed over before parsing) and the positional argument each takes. */
export type CommandName = 'rotate' | 'plan' | 'key-scope' | 'resume' | 'verify' | 'notify' | 'prune';

export interface CommandSpec {
  describe: string;
  positional?: { name: 'journal' | 'report'; describe: string; optional?: boolean };
  /** Shown in this command's --help: [command line, what it does]. */
  examples?: ReadonlyArray<readonly [string, string]>;
  /** This command's exit codes, for its --help. */
  exits: string;
}

const RUN_EXITS = '0 all done, 1 some failed or unknown, 2 usage error, 3 aborted (authentication, blacklist, TLS, lock), 4 internal error, 130 interrupted';
/** rotate also refuses to start over an unfinished run of the same server (exit 5): resume it, or --abandon-previous. */
const ROTATE_EXITS =
  '0 all done, 1 some failed or unknown, 2 usage error, 3 aborted (authentication, blacklist, TLS, lock), 4 internal error, 5 the previous run of this server is unfinished (resume it), 130 interrupted';

export const COMMANDS = {
  rotate: {
    describe: 'Rotate the credentials of the selected accounts (--include for more than account passwords)',
    examples: [
      ['DA_URL=https://admin:KEY@da.example.com:2222 $0 rotate --yes', 'rotate every user account password'],
      ['$0 rotate --yes --scope all --include all', 'incident response: every kind on every account'],
    ],
    exits: ROTATE_EXITS,
  },
  plan: {
    describe: 'Dry run: list every credential that would be touched, change nothing',
    examples: [['$0 plan --include email,ftp', 'what a rotation of mailboxes and FTP accounts would touch']],
    exits: '0 planned, 2 usage error, 3 aborted (authentication, blacklist, TLS), 4 internal error, 130 interrupted',
  },
  resume: {
    describe: 'Finish an interrupted run from its journal (or a fleet run: --run ID)',
    positional: { name: 'journal', describe: 'the .journal.jsonl file', optional: true },
    examples: [['$0 resume reports/da.example.com-20261129T000000Z.journal.jsonl --yes', 'finish an interrupted run']],
    exits: RUN_EXITS,
  },
  verify: {
    describe: "Re-check a report's rotated passwords against the server, changing nothing (or a fleet run's: --run ID)",
    positional: { name: 'report', describe: 'the report CSV (or .csv.age with --identity)', optional: true },
    examples: [['$0 verify reports/da.example.com-20261129T000000Z.csv', "check the report's passwords are live"]],
    exits: '0 no drift, 1 drift or not checkable, 2 usage error, 3 aborted, 4 internal error, 130 interrupted',
  },
  notify: {
    describe: 'Send each account owner their new credentials (or a one-time login link) from a report',
    examples: [['$0 notify --report reports/r.csv --dry-run', 'show who would be mailed what, send nothing']],
    exits: '0 all sent, 1 some not sent, 2 usage error, 3 aborted, 4 internal error, 130 interrupted',
  },
  'key-scope': {
    describe: 'Print the smallest login-key allow-list for these options (--accounts N: the "Max uses" a run needs)',
    examples: [['$0 key-scope --scope all --include all', 'the commands a login key needs for an incident sweep']],
    exits: '0 printed, 2 usage error, 4 internal error',
  },
  prune: {
    describe: 'Delete old reports and journals (the newest --keep N runs of each server stay; a journal with unsettled credentials always stays)',
    examples: [['$0 prune --keep 10', 'keep the newest 10 runs of each server']],
    exits: '0 pruned, 2 usage error, 4 internal error',
  },
} as const satisfies Record<CommandName, CommandSpec>;
