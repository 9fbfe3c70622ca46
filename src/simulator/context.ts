/** What a command handler sees: the request, who is calling, the simulator's state. */
import type { AccountStore, SimAccount } from './accounts.js';
import type { CredentialStore, StoredKey } from './credentials.js';
import { actionBody, keyValueBody, listBody, type FormatOptions } from './encode.js';
import type { Answer } from './pages.js';
import type { AuthFailureStyle, KeyRefusalStyle, PasswordPolicy, SimLoginUrl, SimulatorOptions, SimulatorStats } from './types.js';

export interface Settings {
  authFailure: AuthFailureStyle;
  blacklistAfter: number;
  blacklistStatus: number;
  needsHttps: boolean;
  redirectTo: string | undefined;
  showAllUsersIncludesResellersAndAdmins: boolean;
  passwordPolicy: Required<Omit<PasswordPolicy, 'difficult'>> & { difficult: boolean };
  format: FormatOptions;
  verifyInvalidForSuspended: boolean;
  acceptUnchangedPassword: boolean;
  apiWithPasswordNo: Set<string>;
  jsonApi: boolean;
  passwordChangeEndsSessions: boolean;
  sessionsDestroyViaLoginAs: boolean;
  keyRefusal: KeyRefusalStyle;
  suspendedPasswordAnswer: 'success' | 'error';
  loginUrlOwner: 'customer' | 'admin';
  noJsonApiAnswer: 'not-found' | 'login-page' | 'page';
  ftpSeparator: string;
  deleteUnknownKey: 'not-found' | 'no-content';
}

export interface Caller {
  /** The account whose secret authenticated. */
  real: SimAccount;
  /** The account acted as (login-as target, else `real`). */
  effective: SimAccount;
  /** The login key used, if any. */
  key?: StoredKey;
}

export interface State {
  readonly store: AccountStore;
  readonly creds: CredentialStore;
  readonly settings: Settings;
  readonly stats: SimulatorStats;
  readonly loginUrls: SimLoginUrl[];
  /** The simulator's base URL, for the one-time login URLs it hands out. */
  baseUrl(): string;
}

export interface Request {
  method: string;
  /** Command name or JSON API route (as counted in stats). */
  command: string;
  /** The path as sent, decoded. */
  path: string;
  param(k: string): string | undefined;
  /** Every value of a form/query key (body first). */
  params(): URLSearchParams;
  json: boolean;
  bodyText: string;
  caller: Caller;
  ip: string;
}

export function policyOf(p: PasswordPolicy | undefined): Settings['passwordPolicy'] {
  return { minLength: p?.minLength ?? 5, maxLength: p?.maxLength ?? 256, difficult: p?.difficult ?? false };
}

export function settingsFrom(o: SimulatorOptions): Settings {
  return {
    authFailure: o.authFailure ?? 'login-page',
    blacklistAfter: o.blacklistAfter ?? 5,
    blacklistStatus: o.blacklistStatus ?? 403,
    needsHttps: o.needsHttps ?? false,
    redirectTo: o.redirectTo,
    showAllUsersIncludesResellersAndAdmins: o.showAllUsersIncludesResellersAndAdmins ?? false,
    passwordPolicy: policyOf(o.passwordPolicy),
    format: { ...o.format },
    verifyInvalidForSuspended: o.verifyInvalidForSuspended ?? false,
    acceptUnchangedPassword: o.acceptUnchangedPassword ?? false,
    apiWithPasswordNo: new Set(o.apiWithPasswordNo ?? []),
    jsonApi: o.jsonApi ?? true,
    passwordChangeEndsSessions: o.passwordChangeEndsSessions ?? false,
    sessionsDestroyViaLoginAs: o.sessionsDestroyViaLoginAs ?? true,
    keyRefusal: o.keyRefusal ?? 'login-page',
    suspendedPasswordAnswer: o.suspendedPasswordAnswer ?? 'success',
    loginUrlOwner: o.loginUrlOwner ?? 'customer',
    noJsonApiAnswer: o.noJsonApiAnswer ?? 'not-found',
    ftpSeparator: o.ftpSeparator ?? '@',
    deleteUnknownKey: o.deleteUnknownKey ?? 'not-found',
  };
}

/** setOptions: the run-time switches present in `o` (a key given as undefined resets it to its default). */
export function applyOptions(s: Settings, o: Partial<SimulatorOptions>): void {
  if (o.authFailure !== undefined) s.authFailure = o.authFailure;
  if (o.blacklistAfter !== undefined) s.blacklistAfter = o.blacklistAfter;
  if (o.blacklistStatus !== undefined) s.blacklistStatus = o.blacklistStatus;
  const d = settingsFrom({});
  if ('needsHttps' in o) s.needsHttps = o.needsHttps ?? d.needsHttps;
  if ('redirectTo' in o) s.redirectTo = o.redirectTo;
  if ('showAllUsersIncludesResellersAndAdmins' in o) s.showAllUsersIncludesResellersAndAdmins = o.showAllUsersIncludesResellersAndAdmins ?? false;
  if ('passwordPolicy' in o) s.passwordPolicy = policyOf(o.passwordPolicy);
  if ('verifyInvalidForSuspended' in o) s.verifyInvalidForSuspended = o.verifyInvalidForSuspended ?? d.verifyInvalidForSuspended;
  if ('acceptUnchangedPassword' in o) s.acceptUnchangedPassword = o.acceptUnchangedPassword ?? d.acceptUnchangedPassword;
  if ('apiWithPasswordNo' in o) s.apiWithPasswordNo = new Set(o.apiWithPasswordNo ?? []);
  if ('jsonApi' in o) s.jsonApi = o.jsonApi ?? d.jsonApi;
  if ('passwordChangeEndsSessions' in o) s.passwordChangeEndsSessions = o.passwordChangeEndsSessions ?? d.passwordChangeEndsSessions;
  if ('sessionsDestroyViaLoginAs' in o) s.sessionsDestroyViaLoginAs = o.sessionsDestroyViaLoginAs ?? d.sessionsDestroyViaLoginAs;
  if ('format' in o) s.format = { ...s.format, ...o.format };
  if ('keyRefusal' in o) s.keyRefusal = o.keyRefusal ?? d.keyRefusal;
  if ('suspendedPasswordAnswer' in o) s.suspendedPasswordAnswer = o.suspendedPasswordAnswer ?? d.suspendedPasswordAnswer;
  if ('loginUrlOwner' in o) s.loginUrlOwner = o.loginUrlOwner ?? d.loginUrlOwner;
  if ('noJsonApiAnswer' in o) s.noJsonApiAnswer = o.noJsonApiAnswer ?? d.noJsonApiAnswer;
  if ('ftpSeparator' in o) s.ftpSeparator = o.ftpSeparator ?? d.ftpSeparator;
  if ('deleteUnknownKey' in o) s.deleteUnknownKey = o.deleteUnknownKey ?? d.deleteUnknownKey;
}

export const api = (json: boolean, body: string): Answer => ({ status: 200, body, type: json ? 'application/json' : 'text/plain; charset=utf-8' });

export const action = (s: State, json: boolean, ok: boolean, text: string, details = ''): Answer =>
  api(json, actionBody(json, ok, text, details, s.settings.format));

export const keyValues = (s: State, json: boolean, kv: Record<string, string>): Answer => api(json, keyValueBody(json, kv, s.settings.format));

export const list = (s: State, json: boolean, names: readonly string[]): Answer => api(json, listBody(json, names, s.settings.format));

export const jsonAnswer = (status: number, value?: unknown): Answer =>
  status === 204 ? { status, body: '', type: 'application/json' } : { status, body: JSON.stringify(value), type: 'application/json' };

export function mayManage(caller: SimAccount, target: SimAccount): boolean {
  if (caller.type === 'admin') return true;
  if (target.username === caller.username) return true;
  return caller.type === 'reseller' && target.creator === caller.username;
}
