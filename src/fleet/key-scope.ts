/** key-scope with --inventory: the allow-list per server, printed once for servers that share it. */
import { keyScope, keyScopeInstructions, keyUses, parseExpect, type KeyScope, type KeyUses } from '../rotation/key-scope.js';
import type { Argv } from '../options.js';
import { parseInclude, resolveSelection } from '../options.js';
import { loadInventory, selectServers } from './inventory.js';
import { KIND_NAMES } from '../kinds/index.js';

export interface FleetKeyScope {
  servers: string[];
  scope: 'users' | 'all';
  include?: string[];
  keyScope: KeyScope;
  /** With --accounts: the login-key uses a run of that many accounts needs on these servers. */
  uses?: KeyUses;
}

/** `expect`: --expect, parsed once by the caller (servers include different kinds: it may name any kind, each server counts those it includes). */
function fleetKeyScopes(argv: Argv, expect: Map<string, number>): FleetKeyScope[] {
  const inventory = loadInventory(String(argv.inventory));
  const selectors = argv.servers;
  const cli = resolveSelection(argv);
  const groups = new Map<string, FleetKeyScope>();
  const accounts = argv.accounts;
  for (const s of selectServers(inventory, selectors)) {
    const scope = s.scope ?? cli.scope;
    const include = s.include ? parseInclude(s.include, `include of ${s.name}`) : cli.include;
    const options = { scope, include };
    const ks = keyScope(options);
    const uses = accounts === undefined ? undefined : keyUses({ ...options, accounts, expect });
    const id = JSON.stringify([ks, uses]);
    const g = groups.get(id);
    if (g) g.servers.push(s.name);
    else groups.set(id, { servers: [s.name], scope, include, keyScope: ks, ...(uses ? { uses } : {}) });
  }
  return [...groups.values()];
}

export function runFleetKeyScope(argv: Argv, out: NodeJS.WritableStream): number {
  const expect = parseExpect(argv.expect, KIND_NAMES);
  const groups = fleetKeyScopes(argv, expect);
  if (argv.json === true) {
    out.write(JSON.stringify(groups) + '\n');
    return 0;
  }
  for (const g of groups) {
    if (groups.length > 1) out.write(`== ${g.servers.join(', ')} ==\n`);
    else out.write(`(the same for every selected server: ${g.servers.join(', ')})\n`);
    out.write(keyScopeInstructions(g.keyScope, { scope: g.scope, include: g.include, accounts: argv.accounts, expect }));
  }
  return 0;
}
