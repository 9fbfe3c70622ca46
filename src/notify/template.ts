/**
 * Message templates: a subject and a body with {{placeholders}}. A template is checked when it is
 * loaded, before anything is sent: unknown placeholders, a secret in the subject, a password in a
 * login-link message, or a message that would not carry what it is meant to carry are refused.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { AccountBundle, DeliverableCredential } from './credentials.js';

export type DeliveryMode = 'password' | 'login-link';

/** Every placeholder, documented in docs/notify.md (Templates). */
export const PLACEHOLDERS = {
  username: 'the account name',
  server: 'the DirectAdmin host name',
  panel_url: 'the DirectAdmin URL (scheme://host:port)',
  email: 'the address the message goes to',
  date: 'the date of sending (YYYY-MM-DD, UTC)',
  credentials: 'one line per changed credential; in login-link mode the names only, never a password',
  account_password: 'the new account password (password mode only)',
  login_link: 'the one-time login link (login-link mode only)',
  devices_notice: 'the paragraph telling the customer to update phones and mail clients (empty when no mailbox changed)',
} as const;
export type Placeholder = keyof typeof PLACEHOLDERS;

export interface MessageTemplate {
  subject: string;
  body: string;
}

const SECRET_PLACEHOLDERS: readonly Placeholder[] = ['credentials', 'account_password', 'login_link'];
const TOKEN = /\{\{\s*([A-Za-z0-9_]*)\s*\}\}/g;

export const DEVICES_NOTICE =
  'IMPORTANT: the passwords of your mailboxes changed. Update them now in every phone, tablet and mail ' +
  'program that reads or sends mail for these addresses. A device that keeps trying the old password ' +
  "gets your own internet connection (IP address) blocked by the server's brute-force protection, " +
  'which then cuts you off from mail, the control panel and FTP until the block expires.\n';

export const DEFAULT_TEMPLATES: Record<DeliveryMode, MessageTemplate> = {
  password: {
    subject: 'Your new login details for {{server}}',
    body: `Hello {{username}},

As part of a security measure on {{server}}, the passwords below were changed. The old passwords no
longer work.

{{credentials}}
{{devices_notice}}
The control panel is at {{panel_url}}. You can choose a password of your own there at any time.
Store these passwords in a password manager and delete this message afterwards.

This message was sent automatically on {{date}}.
`,
  },
  'login-link': {
    subject: 'Set a new password for {{server}}',
    body: `Hello {{username}},

As part of a security measure on {{server}}, the password of your account {{username}} was changed.
No password is sent by e-mail: open this one-time link to log in and choose a new password of your
own. The link works once and expires soon.

{{login_link}}

{{credentials}}
{{devices_notice}}
If the link has expired, ask us for a new one. This message was sent automatically on {{date}}.
`,
  },
};

function placeholdersIn(text: string): string[] {
  return [...text.matchAll(TOKEN)].map((m) => m[1] ?? '');
}

/** Checks a template for a delivery mode; throws a UsageError naming the problem and the source. */
export function checkTemplate(t: MessageTemplate, mode: DeliveryMode, where: string): MessageTemplate {
  const known = new Set(Object.keys(PLACEHOLDERS));
  const all = [...placeholdersIn(t.subject), ...placeholdersIn(t.body)];
  const unknown = [...new Set(all.filter((p) => !known.has(p)))];
  if (unknown.length) {
    throw new UsageError(
      `${where}: unknown placeholder(s) ${unknown.map((p) => `{{${p}}}`).join(', ')}; known: ${Object.keys(PLACEHOLDERS)
        .map((p) => `{{${p}}}`)
        .join(' ')}`,
    );
  }
  const inSubject = placeholdersIn(t.subject).filter((p) => (SECRET_PLACEHOLDERS as readonly string[]).includes(p));
  if (inSubject.length) throw new UsageError(`${where}: the subject must not carry {{${inSubject[0]}}} (subjects show in previews and logs)`);
  const body = new Set(placeholdersIn(t.body));
  if (mode === 'password') {
    if (!body.has('credentials'))
      throw new UsageError(`${where}: a password message needs {{credentials}} in its body (else mailbox and FTP passwords would be lost)`);
    if (body.has('login_link')) throw new UsageError(`${where}: {{login_link}} is only for --deliver login-link`);
  } else {
    if (!body.has('login_link')) throw new UsageError(`${where}: a login-link message needs {{login_link}} in its body`);
    if (body.has('account_password')) throw new UsageError(`${where}: --deliver login-link sends no password: remove {{account_password}}`);
  }
  if (/[\r\n]/.test(t.subject)) throw new UsageError(`${where}: the subject must be a single line`);
  return t;
}

/**
 * Reads a template file: a first line `Subject: ...`, an empty line, then the body. Lines starting
 * with `#` before the subject are comments.
 */
export function loadTemplateFile(path: string, mode: DeliveryMode): MessageTemplate {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--template: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length && (lines[0]!.startsWith('#') || lines[0]!.trim() === '')) lines.shift();
  const m = /^Subject:\s*(.*)$/i.exec(lines[0] ?? '');
  if (!m || !m[1]!.trim()) throw new UsageError(`--template: ${path} must start with a line "Subject: ..." followed by an empty line and the body`);
  if ((lines[1] ?? '').trim() !== '') throw new UsageError(`--template: ${path}: put an empty line between the Subject line and the body`);
  const body = lines.slice(2).join('\n');
  if (!body.trim()) throw new UsageError(`--template: ${path} has an empty body`);
  return checkTemplate({ subject: m[1]!.trim(), body }, mode, `--template ${path}`);
}

const KIND_LABEL: Record<DeliverableCredential['kind'], string> = {
  account: 'Account (control panel, FTP, SSH)',
  email: 'Mailbox',
  ftp: 'FTP account',
  'db-user': 'Database user',
};

/** Said under every database user: its site breaks until its configuration is edited. */
export const DATABASE_NOTICE =
  'your website uses this database user: it cannot reach its database until its configuration file ' + '(for example wp-config.php) holds the new password';

/** The {{credentials}} block: with passwords, or (login-link mode) only which credentials changed. */
export function credentialsBlock(bundle: AccountBundle, mode: DeliveryMode): string {
  const lines: string[] = [];
  if (mode === 'password') {
    for (const c of bundle.credentials) {
      const note = c.status === 'unknown' ? '  (may not be active yet: if it does not work, contact us)' : '';
      lines.push(`${KIND_LABEL[c.kind]}: ${c.credential}\n  new password: ${c.password}${note}`);
      if (c.kind === 'db-user') lines.push(`  IMPORTANT: ${DATABASE_NOTICE}.`);
    }
    return lines.join('\n') + '\n';
  }
  const others = bundle.credentials.filter((c) => c.kind !== 'account');
  if (others.length === 0) return '';
  lines.push('These passwords were changed too; after logging in, set new ones in the control panel:');
  for (const c of others) lines.push(`  ${KIND_LABEL[c.kind]}: ${c.credential}${c.kind === 'db-user' ? `\n    IMPORTANT: ${DATABASE_NOTICE}.` : ''}`);
  return lines.join('\n') + '\n';
}

export interface RenderInput {
  bundle: AccountBundle;
  mode: DeliveryMode;
  to: string;
  serverHost: string;
  panelUrl: string;
  loginLink?: string;
  now: Date;
}

/** Renders subject and body; a value never gets re-expanded (placeholders are replaced in one pass). */
export function renderMessage(t: MessageTemplate, input: RenderInput): { subject: string; text: string } {
  const { bundle, mode } = input;
  const account = bundle.credentials.find((c) => c.kind === 'account');
  const values: Record<Placeholder, string> = {
    username: bundle.username,
    server: input.serverHost,
    panel_url: input.panelUrl,
    email: input.to,
    date: input.now.toISOString().slice(0, 10),
    credentials: credentialsBlock(bundle, mode),
    account_password: mode === 'password' ? (account?.password ?? '') : '',
    login_link: mode === 'login-link' ? (input.loginLink ?? '') : '',
    devices_notice: bundle.credentials.some((c) => c.kind === 'email') ? `\n${DEVICES_NOTICE}` : '',
  };
  const fill = (s: string) => s.replace(TOKEN, (_m, name: string) => values[name as Placeholder] ?? '');
  return { subject: fill(t.subject).replace(/[\r\n]+/g, ' '), text: fill(t.body) };
}
