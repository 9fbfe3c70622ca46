/** What a notify run takes (settings, the parts it talks to) and what it gives back (its summary). */
import type { AgeIdentity } from '../crypto/age.js';
import type { AccountBundle } from './credentials.js';
import type { NotifyServer } from './server.js';
import type { MailSender } from './smtp.js';
import type { DeliveryMode, MessageTemplate } from './template.js';

export interface NotifySettings {
  report: string;
  identities?: AgeIdentity[];
  deliver: DeliveryMode;
  template: MessageTemplate;
  /** --link-fallback password: an account whose login link cannot be proved its own gets its passwords instead. */
  linkFallback?: 'password';
  from: string;
  toOverride?: string;
  includeUnknown: boolean;
  includeSuspended: boolean;
  resendUncertain: boolean;
  only?: string[];
  exclude: string[];
  /** Messages per second (0: no limit). */
  rate: number;
  dryRun: boolean;
  yes: boolean;
  /** Where dry-run messages go (informational, the sender writes them). */
  emlDir?: string;
  /** Where the server's last run is recorded: a report a later run superseded is refused. */
  stateDir?: string;
}

export interface NotifyDeps {
  server: NotifyServer;
  sender: MailSender;
  /** How the sender is described to the operator (smtp://host:port, or the .eml directory). */
  via: string;
  interactive: boolean;
  confirm: (question: string) => Promise<boolean>;
  say: (line: string) => void;
  /** A stop (SIGINT, SIGTERM, SIGHUP): no new message; the one in flight gets stopGraceMs, then is abandoned as uncertain. */
  stop: { readonly stopped: boolean; onStop?: (listener: () => void) => void };
  stopGraceMs?: number;
  now?: () => Date;
  /** Waits (for the rate limit); tests may replace it. */
  sleep?: (ms: number) => Promise<void>;
}

export interface NotifySummary {
  command: 'notify';
  report: string;
  server: string;
  deliver: DeliveryMode;
  dryRun: boolean;
  sentLog?: string;
  emlDir?: string;
  planned: number;
  sent: Array<{ account: string; to: string; messageId: string }>;
  failed: Array<{ account: string; error: string }>;
  alreadySent: number;
  uncertain: string[];
  suspended: string[];
  notSelected: number;
  heldUnknown: number;
  aborted?: string;
  interrupted: boolean;
  exitCode: number;
}

/** An account whose message will go out, and where to. */
export interface Planned {
  bundle: AccountBundle;
  to: string;
}
