/** Which accounts and which kinds of credential a run touches (--scope, --only, --exclude, --include...). */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { KIND_ORDER, OPT_IN_KINDS, type KindName } from '../kinds/kind.js';
import type { SelectionSettings } from '../rotation/settings.js';
import { checkedArgv, type ArgvInput } from './validate.js';

/** --include: kind names (comma or repeated), `all` for every kind but the opt-in ones. */
export function resolveInclude(input: ArgvInput): KindName[] {
  return parseInclude(checkedArgv(input).include, '--include');
}

/** Kind names as given (flag or inventory), validated; nothing given means the account password only. */
export function parseInclude(asked: readonly string[], flag: string): KindName[] {
  if (asked.length === 0) return ['account'];
  const known = [...KIND_ORDER];
  const out = new Set<KindName>();
  for (const k of asked) {
    if (k === 'all') {
      for (const d of KIND_ORDER) if (!OPT_IN_KINDS.includes(d)) out.add(d);
    } else if ((known as string[]).includes(k)) out.add(k as KindName);
    else throw new UsageError(`${flag}: unknown kind "${k}"; choose from ${known.join(', ')}, or all`);
  }
  return known.filter((k) => out.has(k));
}

export function resolveSelection(input: ArgvInput): SelectionSettings {
  const argv = checkedArgv(input);
  const scope = argv.scope;
  const exclude = argv.exclude;
  let only: string[] | undefined = argv.only;
  const usersFile = argv.usersFile;
  if (usersFile) {
    let text: string;
    try {
      text = readFileSync(usersFile, 'utf8');
    } catch {
      throw new UsageError(`--users-file: cannot read ${usersFile}`);
    }
    const names = text
      .split(/\r?\n/)
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    if (names.length === 0) throw new UsageError(`--users-file: ${usersFile} lists no accounts`);
    only = [...only, ...names];
  }
  if (only.length === 0) only = undefined;
  return { scope, exclude, only, include: resolveInclude(argv), ...(argv.countAll === true ? { countAll: true } : {}) };
}
