/** Summaries by kind and status, and database users named wherever they change. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { daUrl, runCli, summaryOf } from './cli-runner.js';
import { withSim } from './simulator-fixtures.js';

describe('kind × status summaries', { timeout: 120_000 }, () => {
  it('plan --include db-user names every site whose configuration must change, in text and --json', async () => {
    await withSim({ users: 6, resellers: 0, dbUsersPerUser: 2 }, async (sim, out) => {
      const r = await runCli(['plan', '--json', '--log-format', 'text', '--include', 'account,email,db-user', '--output', join(out, 'p.csv')], {
        env: { DA_URL: daUrl(sim) },
      });
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      assert.equal(s.command, 'plan');
      assert.equal(s.mode, undefined);
      const byKind = s.byKind as Record<string, Record<string, number>>;
      const dbUsers = byKind['db-user']?.planned ?? 0;
      assert.ok(dbUsers > 0, JSON.stringify(byKind));
      assert.equal(byKind.account?.planned, s.counts.planned - dbUsers - (byKind.email?.planned ?? 0));
      const sites = s.dbSites as string[];
      assert.equal(sites.length, dbUsers);
      for (const site of sites) {
        assert.match(site, /^\S+ \(database user \S+\)$/);
        assert.ok(r.stderr.includes(site), `${site} named in the summary:\n${r.stderr}`);
      }
      // The text summary is a table: a header row and one row per kind.
      assert.match(r.stderr, /^\s+kind\s+planned/m);
      assert.match(r.stderr, new RegExp(`^\\s+db-user\\s+${dbUsers}\\b`, 'm'));
      assert.match(r.stderr, /would change database user\(s\): the sites using them stop working/);
    });
  });
});
