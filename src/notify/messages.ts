/** Every sentence notify says to the operator (kept apart from the logic, like src/messages.ts). */
import type { NotifySummary } from './types.js';

export const notifyMsg = {
  reportServerMismatch: (report: string, given: string) =>
    `this report is for ${report} but the connection given is ${given}: connect to ${report} to notify its customers`,
  reportMixedServers: (path: string) => `the report ${path} holds rows of more than one server: it was edited or damaged`,
  onlyMissing: (names: string[]) =>
    `--only names ${names.length} account(s) with nothing to deliver in the report: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''} (nothing was sent)`,
  heldUnknown: (n: number) =>
    `${n} credential(s) have status unknown (they may not be live) and are not sent; pass --include-unknown to send them marked as such`,
  includedUnknown: (n: number) =>
    `--include-unknown: ${n} credential(s) whose change is not proven are sent, marked "may not be active yet"; run \`da-rotate resume\` first if you can`,
  loginLinksUnavailable:
    '--deliver login-link needs one-time login URLs from the DirectAdmin client, which this build does not have yet: use --deliver password',
  uncertainHeld: (names: string[]) =>
    `${names.length} account(s) may already have their message (a run stopped between handing it to SMTP and recording the answer): ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}; check the mail server's log, then pass --resend-uncertain to send them again`,
  confirm: (count: number, mode: string, via: string, sample: string[], more: number) =>
    `About to send ${count} message(s) (${mode === 'password' ? 'with the new passwords' : 'with one-time login links, no password'}) through ${via}:\n` +
    sample.map((s) => `  ${s}\n`).join('') +
    (more > 0 ? `  ... and ${more} more\n` : '') +
    'Type "yes" to send: ',
  needsYes: 'standard input is not a terminal: pass --yes to send without confirmation (nothing was sent)',
  notConfirmed: 'not confirmed: nothing was sent',
  smtpAuth: (via: string, why: string) => `SMTP authentication to ${via} failed (${why}): fix the user and password in SMTP_URL; nothing more is sent`,
  smtpTls: (via: string, why: string) =>
    `TLS with the SMTP server ${via} failed (${why}): trust its CA with --smtp-ca FILE, use smtps:// or a server offering STARTTLS; --smtp-insecure sends in clear (not advised). Nothing more is sent`,
  smtpUnavailable: (via: string, why: string) => `the SMTP server ${via} cannot be used (${why}): nothing more is sent; rerun to continue where this stopped`,
  logWriteFailed: (path: string, why: string) => `could not record a delivery in the sent-log ${path} (${why}): stopped before sending anything else`,
  serverFatal: (why: string) => `DirectAdmin refused notify's requests (${why}): nothing more is sent`,
  dryRunEncrypted: 'dry run of an encrypted report: passwords in the .eml files are replaced by a placeholder, so no password reaches the disk in clear',
  loginLinkUnproven: (why: string) =>
    `${why}. Stopped: this server's login links cannot be trusted to open the customers' own logins, so nothing more is sent. ` +
    'Pass --link-fallback password to send those accounts their new passwords instead, or --deliver password',
  interrupted: 'interrupted: the message in flight was settled and recorded; rerun the same command to send the rest',
};

export function formatNotifySummary(s: NotifySummary): string {
  const lines: string[] = [];
  const verb = s.dryRun ? 'Notify dry run' : 'Notify';
  const state = s.aborted ? 'ABORTED' : s.interrupted ? 'INTERRUPTED' : 'finished';
  lines.push(`${verb} ${state} for ${s.server} (${s.deliver}): ${s.dryRun ? 'written' : 'sent'} ${s.sent.length}, failed ${s.failed.length}`);
  lines.push(
    `  not sent: already sent before ${s.alreadySent}, uncertain ${s.uncertain.length}, suspended ${s.suspended.length}, not selected ${s.notSelected}, unknown credentials held ${s.heldUnknown}`,
  );
  for (const f of s.failed.slice(0, 20)) lines.push(`  ${f.account}: ${f.error}`);
  if (s.failed.length > 20) lines.push(`  ... ${s.failed.length - 20} more failures in --json output`);
  if (s.aborted) lines.push(`  reason: ${s.aborted}`);
  if (s.emlDir) lines.push(`  messages: ${s.emlDir}`);
  if (s.sentLog) lines.push(`  sent-log: ${s.sentLog}`);
  return lines.join('\n') + '\n';
}
