/** notify's flags and environment turned into validated settings, before any request is sent. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { listOption, type Argv, type Env } from '../options.js';
import { readIdentityFile } from '../crypto/age.js';
import type { NotifySettings } from './run.js';
import { checkTemplate, DEFAULT_TEMPLATES, loadTemplateFile, type DeliveryMode } from './template.js';

const ADDRESS = /^[^\s@<>(),;:"\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/;
/** `Name <addr@host>` or a bare address. */
const SENDER = /^(?:[^<>\r\n]*<[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+>|[^\s@<>]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+)$/;

function str(argv: Argv, name: string): string | undefined {
  const v = argv[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) throw new UsageError(`--${name} was given more than once; give it once`);
  return String(v);
}

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

export function resolveNotifySettings(argv: Argv, env: Env): NotifyCliSettings {
  const report = str(argv, 'report');
  if (!report) throw new UsageError('name the report to deliver: --report FILE (a .csv, or a .csv.age with --identity FILE)');
  const identityFile = str(argv, 'identity');
  const identities = identityFile ? readIdentityFile(identityFile) : undefined;

  const deliver = (str(argv, 'deliver') ?? 'password') as DeliveryMode;
  if (deliver !== 'password' && deliver !== 'login-link') throw new UsageError('--deliver must be "password" or "login-link"');
  const templateFile = str(argv, 'template');
  const template = templateFile ? loadTemplateFile(templateFile, deliver) : checkTemplate(DEFAULT_TEMPLATES[deliver], deliver, 'the default template');

  const from = str(argv, 'from') ?? env.SMTP_FROM;
  if (!from) throw new UsageError('no sender: pass --from ADDRESS or set SMTP_FROM');
  if (!SENDER.test(from.trim())) throw new UsageError(`--from/SMTP_FROM: "${from}" is not an e-mail address`);
  const toOverride = str(argv, 'to-override');
  if (toOverride !== undefined && !ADDRESS.test(toOverride)) throw new UsageError(`--to-override: "${toOverride}" is not an e-mail address`);

  const rawRate = argv.rate ?? 5;
  const rate = typeof rawRate === 'number' ? rawRate : Number(rawRate);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1000)
    throw new UsageError(`--rate must be a number of messages per second from 0 (no limit) to 1000 (got ${String(rawRate)})`);

  const caFile = str(argv, 'smtp-ca');
  let smtpCa: Buffer | undefined;
  if (caFile) {
    try {
      smtpCa = readFileSync(caFile);
    } catch {
      throw new UsageError(`--smtp-ca: cannot read ${caFile}`);
    }
  }
  const dryRun = argv['dry-run'] === true;
  const only = listOption(argv, 'only');
  return {
    report,
    identities,
    deliver,
    template,
    from: from.trim(),
    toOverride,
    includeUnknown: argv['include-unknown'] === true,
    includeSuspended: argv['include-suspended'] === true,
    resendUncertain: argv['resend-uncertain'] === true,
    only: only.length ? only : undefined,
    exclude: listOption(argv, 'exclude'),
    rate,
    dryRun,
    yes: argv.yes === true,
    emlDir: dryRun ? (str(argv, 'eml-dir') ?? `output/notify-${fileStamp(new Date())}`) : undefined,
    smtpInsecure: argv['smtp-insecure'] === true,
    smtpCa,
  };
}
