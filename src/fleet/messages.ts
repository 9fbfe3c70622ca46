/** What a fleet run says to the operator, kept apart from the logic. */
import { formatDuration } from '../messages.js';
import type { FleetManifest } from './manifest.js';
import { formatServerLine, isFinished } from './summary.js';

export const fleetMsg = {
  voidServer: (later: string) => `nothing was sent from this run; a later run (${later}) has since rotated this server`,
  resumeWhat: 'name what to resume: a journal (da-rotate resume FILE.journal.jsonl) or a fleet run (da-rotate resume --run RUN_ID)',
  resumeNeedsRun: 'resume with --inventory needs --run RUN_ID: the fleet run to resume (the directory name under output/)',
  verifyWhat: 'name what to verify: a report (da-rotate verify FILE.csv) or a fleet run (da-rotate verify --run RUN_ID)',
  verifyNeedsRun: 'verify with --inventory needs --run RUN_ID: the fleet run whose reports to check',
  runOnlyResumeVerify: '--run belongs to resume and verify; rotate and plan start a new fleet run',
  positionalWithRun: (command: string) => `${command}: give either a ${command === 'verify' ? 'report' : 'journal'} file or --run/--inventory, not both`,
  singleServerFlags: (flags: string[]) =>
    `${flags.map((f) => `--${f}`).join(', ')} name(s) one server's connection or output: with --inventory each server's comes from the inventory (url, user, secret_env/secret_file, fingerprint/ca) and reports go under --output-dir`,
  needsYes: 'standard input is not a terminal: pass --yes to rotate the fleet without confirmation (nothing was changed)',
  notConfirmed: 'not confirmed: nothing was changed',
  resumeNotRotate: (run: string, command: string) => `fleet run ${run} was a ${command}: only rotations have anything to resume`,
  resumeServersMissing: (names: string[], file: string) =>
    `servers of that run are no longer in ${file}: ${names.join(', ')}; put them back (same name and url) to resume them`,
  resumeUrlChanged: (changes: string[]) => `the url of a server changed since the run, so its journal does not match: ${changes.join('; ')}`,
  nothingToResume: (run: string) => `every server of fleet run ${run} (of those selected) has finished: nothing to resume`,
  nothingToVerify: (run: string) => `no server of fleet run ${run} (of those selected) has a report with rotated accounts: nothing to verify`,
  resumeCommand: (run: string, outputDir: string) => `da-rotate resume --run ${run}${/\/output$/.test(outputDir) ? '' : ` --output-dir ${outputDir}`}`,
  confirmHeader: (n: number) => `About to change passwords on ${n} server(s):`,
  confirmQuestion: (accounts: number, servers: number) => `Change the passwords of ${accounts} account(s) on ${servers} server(s)? Type "yes" to go on: `,
  starting: (command: string, run: string, servers: number, parallel: number, dir: string) =>
    `fleet ${command} ${run}: ${servers} server(s), ${parallel} at a time, files under ${dir}\n`,
  manifestNotWritten: (path: string, why: string) => `cannot write the fleet manifest ${path} (${why}): nothing was sent`,
  bookkeepingFailed: (dir: string, why: string) =>
    `da-rotate: the fleet manifest or summary in ${dir} could not be written (${why}); each server's journal and report are complete in its own directory\n`,
  finished: (command: string, m: FleetManifest, summary: string, exitCode: number, outputDir: string): string => {
    const ms = m.servers.map((s) => s.durationMs ?? 0);
    const counts = new Map<string, number>();
    for (const s of m.servers) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    const lines = [
      `Fleet ${command} ${m.runId}: ${m.servers.length} server(s): ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')} (slowest ${formatDuration(Math.max(0, ...ms))})`,
      ...m.servers.filter((s) => s.status !== 'ok').map((s) => `  ${formatServerLine(s)}`),
      `  summary: ${summary}`,
    ];
    // A server refused because an earlier run must be finished first names that run's line; resuming this one would refuse the same way.
    const elsewhere = (s: (typeof m.servers)[number]) => /da-rotate resume --run (\S+)/.exec(s.error ?? '')?.[1]?.replace(/;$/, '') ?? undefined;
    const others = [...new Set(m.servers.map(elsewhere).filter((r): r is string => r !== undefined && r !== m.runId))];
    if (others.length > 0) for (const r of others) lines.push(`  finish the earlier run first: ${fleetMsg.resumeCommand(r, outputDir)}`);
    if (m.command === 'rotate' && m.servers.some((s) => !isFinished(s) && !others.includes(elsewhere(s) ?? '')))
      lines.push(`  to finish the rest: ${fleetMsg.resumeCommand(m.runId, outputDir)}`);
    if (exitCode !== 0 && command === 'rotate') lines.push('  fix what each failed server says, then resume the run: finished servers are not touched again');
    return lines.join('\n') + '\n';
  },
};
