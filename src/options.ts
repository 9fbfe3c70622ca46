/**
 * The options: one table (options/table.ts) with every flag's type, default, help text, commands and
 * accepted values; the argv types derived from it (options/types.ts); the one validator that reads
 * the command line through it (options/validate.ts); and the resolvers that turn checked flags plus
 * the environment into settings (options/resolve-*.ts). Importers use this module.
 */
export { COMMANDS, type CommandName, type CommandSpec } from './options/commands.js';
export { DEFAULT_CONCURRENCY, OPTIONS, optionsFor, type OptionName, type Options } from './options/table.js';
export type { Argv, ArgvOf, Camel, Env, OptionSpec, OptionsOf, Parsed, ParsedArgv, RawArgv, ValueOf } from './options/types.js';
export { checkedArgv, optionGiven, optionValue, parseDuration, type ArgvInput } from './options/validate.js';
export { readSecretFile, readStdinOnce } from './options/secrets.js';
export { resolveConnection, type IoForSettings } from './options/resolve-connection.js';
export { parseInclude, resolveInclude, resolveSelection } from './options/resolve-selection.js';
export { resolvePolicy, resolvePolicyOverride, resolveSamePassword } from './options/resolve-passwords.js';
export { concurrencyGiven, resolveFiles, resolveWork } from './options/resolve-work.js';
export type { ConnectionSettings, FileSettings, SelectionSettings, WorkSettings } from './rotation/settings.js';
