import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMetricsFile, formatMetrics, writeMetricsFile, type ServerMetrics } from '../../src/rotation/metrics.js';
import { formatKindTable, tallyRow, type KindCounts } from '../../src/rotation/tally.js';

const run: ServerMetrics = {
  server: 'https://da1.example.com:2222',
  startedAt: 1_700_000_000_000,
  endedAt: 1_700_000_012_500,
  exitCode: 1,
  byKind: { account: { rotated: 40, failed: 2 }, email: { rotated: 7, unknown: 1 } },
  failedLogins: 0,
  requests: 123,
  retries: 4,
};

/** name{labels} value, for every sample line. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

describe('metrics file format', () => {
  it('one HELP and TYPE per family, a sample per server, credentials per kind and status', () => {
    const text = formatMetrics('rotate', [run, { ...run, server: 'https://da2.example.com:2222', exitCode: 0, byKind: {} }]);
    assert.ok(text.endsWith('\n'));
    const s = samples(text);
    const l = 'command="rotate",server="https://da1.example.com:2222"';
    assert.equal(s.get(`da_rotate_last_run_start_time_seconds{${l}}`), 1_700_000_000);
    assert.equal(s.get(`da_rotate_last_run_end_time_seconds{${l}}`), 1_700_000_012.5);
    assert.equal(s.get(`da_rotate_last_run_duration_seconds{${l}}`), 12.5);
    assert.equal(s.get(`da_rotate_last_run_exit_code{${l}}`), 1);
    assert.equal(s.get(`da_rotate_last_run_credentials{${l},kind="account",status="rotated"}`), 40);
    assert.equal(s.get(`da_rotate_last_run_credentials{${l},kind="account",status="failed"}`), 2);
    assert.equal(s.get(`da_rotate_last_run_credentials{${l},kind="email",status="unknown"}`), 1);
    assert.equal(s.get(`da_rotate_last_run_requests{${l}}`), 123);
    assert.equal(s.get(`da_rotate_last_run_retries{${l}}`), 4);
    assert.equal(s.get(`da_rotate_last_run_failed_logins{${l}}`), 0);
    assert.equal(s.get('da_rotate_last_run_exit_code{command="rotate",server="https://da2.example.com:2222"}'), 0);
    for (const family of ['start_time_seconds', 'exit_code', 'credentials', 'requests']) {
      assert.equal(text.split(`# TYPE da_rotate_last_run_${family} gauge`).length, 2, family);
      assert.equal(text.split(`# HELP da_rotate_last_run_${family} `).length, 2, family);
    }
  });

  it('escapes label values (backslash, quote, newline)', () => {
    const text = formatMetrics('plan', [{ ...run, server: 'a"b\\c\nd', byKind: {} }]);
    assert.match(text, /server="a\\"b\\\\c\\nd"/);
  });

  it('is replaced atomically, 0644, with no temporary file left; refuses a directory others can write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-rotate-metrics-'));
    try {
      const path = join(dir, 'da-rotate.prom');
      writeFileSync(path, 'old\n');
      await checkMetricsFile(path);
      await writeMetricsFile(path, 'new\n');
      assert.equal(readFileSync(path, 'utf8'), 'new\n');
      assert.equal(statSync(path).mode & 0o777, 0o644);
      assert.deepEqual(readdirSync(dir), ['da-rotate.prom']);
      const wide = join(dir, 'wide');
      mkdirSync(wide);
      chmodSync(wide, 0o777);
      await assert.rejects(checkMetricsFile(join(wide, 'x.prom')), /writable by group or others/);
      await assert.rejects(checkMetricsFile(join(dir, 'missing', 'x.prom')), /--metrics-file: its directory .* cannot be used \(ENOENT\)/);
      symlinkSync('/etc/passwd', join(dir, 'link.prom'));
      await assert.rejects(checkMetricsFile(join(dir, 'link.prom')), /not a regular file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kind × status table', () => {
  it('counts rows by kind and status and lays them out as a table', () => {
    const t: KindCounts = {};
    for (const [kind, status] of [
      ['account', 'rotated'],
      ['account', 'rotated'],
      ['email', 'failed'],
      ['ftp', 'rotated'],
    ])
      tallyRow(t, { kind: kind!, status: status! });
    assert.deepEqual(t, { account: { rotated: 2 }, email: { failed: 1 }, ftp: { rotated: 1 } });
    const lines = formatKindTable(t, ['account', 'email', 'ftp']);
    assert.match(lines[0]!, /^\s+kind\s+rotated\s+failed$/);
    assert.match(lines[1]!, /^\s+account\s+2\s+0$/);
    assert.match(lines[2]!, /^\s+email\s+0\s+1$/);
    assert.match(lines[3]!, /^\s+ftp\s+1\s+0$/);
  });
});
