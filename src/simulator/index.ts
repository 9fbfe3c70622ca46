export {
  startSimulator,
  type AuthFailureStyle,
  type DegradeMode,
  type FaultRate,
  type Faults,
  type LoginKey,
  type LoginKeySpec,
  type PasswordPolicy,
  type SimDbUser,
  type SimFtpAccount,
  type SimLoginKey,
  type SimLoginUrl,
  type SimMailbox,
  type SimSession,
  type Simulator,
  type SimulatorOptions,
  type SimulatorStats,
  type TrickleFault,
} from './server.js';
export { SimulatorSetupError } from './certificate.js';
export type { SimAccount, ExtraAccount, AccountType } from './accounts.js';
export type { FormatOptions } from './encode.js';
export type { FtpType } from './types.js';
