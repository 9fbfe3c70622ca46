export {
  startSimulator,
  type AuthFailureStyle,
  type FaultRate,
  type Faults,
  type LoginKey,
  type PasswordPolicy,
  type Simulator,
  type SimulatorOptions,
  type SimulatorStats,
} from './server.js';
export type { SimAccount, ExtraAccount, AccountType } from './accounts.js';
export type { FormatOptions } from './encode.js';
