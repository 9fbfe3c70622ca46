export * from './errors.js';
export * from './parse.js';
export { DirectAdminClient, type ClientOptions, type RequestEvent } from './client.js';
export { LoginUrl, type DbUser, type FtpAccount, type FtpAccountDetails, type FtpListing, type LoginKeyInfo, type SessionInfo } from './credentials.js';
export { normalizeFingerprint, type TlsOptions } from './tls.js';
export { parseServerUrl, isLoopbackHost, DEFAULT_PORT, type ServerUrl } from './url.js';
