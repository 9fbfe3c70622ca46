/** notify's flags and environment turned into validated settings, before any request is sent. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { checkedArgv, type ArgvInput, type Env } from '../options.js';
import { readIdentityFile } from '../crypto/age.js';
import type { NotifySettings } from './types.js';
import { stateDirFor } from '../rotation/lock.js';
import { checkTemplate, DEFAULT_TEMPLATES, loadTemplateFile, type DeliveryMode } from './template.js';

/** `Name <addr@host>` or a bare address. */
const SENDER = /^(?:[^<>\r\n]*<[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+>|[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+)$/;

export interface NotifyCliSettings extends NotifySettings {
  smtpInsecure: boolean;
  smtpCa?: Buffer;
}

/** A UTC stamp for file names: 20261129T032752Z. */
export function fileStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** Flags are read in this order, so the first problem named is the first an operator would fix. */
export function resolveNotifySettings(input: ArgvInput, env: Env): NotifyCliSettings {
  const argv = checkedArgv(input);
  const report = argv.report;
  if (!report) throw new UsageError('name the report to deliver: --report FILE (a .csv, or a .csv.age with --identity FILE)');
  const identityFile = argv.identity;
  const identities = identityFile ? readIdentityFile(identityFile) : undefined;

  const deliver: DeliveryMode = argv.deliver;
  const templateFile = argv.template;
  const template = templateFile ? loadTemplateFile(templateFile, deliver) : checkTemplate(DEFAULT_TEMPLATES[deliver], deliver, 'the default template');

  const from = argv.from ?? env.SMTP_FROM;
  if (!from) throw new UsageError('no sender: pass --from ADDRESS or set SMTP_FROM');
  if (!SENDER.test(from.trim())) throw new UsageError(`--from/SMTP_FROM: "${from}" is not an e-mail address`);
  const toOverride = argv.toOverride;
  const rate = argv.rate;

  const caFile = argv.smtpCa;
  let smtpCa: Buffer | undefined;
  if (caFile) {
    try {
      smtpCa = readFileSync(caFile);
    } catch {
      throw new UsageError(`--smtp-ca: cannot read ${caFile}`);
    }
  }
  const dryRun = argv.dryRun;
  const only = argv.only;
  return {
    report,
    identities,
    deliver,
    template,
    ...(argv.linkFallback === 'password' ? { linkFallback: 'password' as const } : {}),
    from: from.trim(),
    toOverride,
    includeUnknown: argv.includeUnknown,
    includeSuspended: argv.includeSuspended,
    resendUncertain: argv.resendUncertain,
    only: only.length ? only : undefined,
    exclude: argv.exclude,
    rate,
    dryRun,
    yes: argv.yes,
    emlDir: dryRun ? (argv.emlDir ?? `output/notify-${fileStamp(new Date())}`) : undefined,
    smtpInsecure: argv.smtpInsecure,
    smtpCa,
    stateDir: stateDirFor(env, argv.stateDir),
  };
}
