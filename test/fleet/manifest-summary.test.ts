import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunDir, newRunId, readManifest, RUN_ID, writeFileAtomic } from '../../src/fleet/manifest.js';
import { isFinished, summaryCsv, summaryRow, worstExitCode } from '../../src/fleet/summary.js';
import { UsageError } from '../../src/errors.js';

describe('fleet manifest and summary', { timeout: 10_000 }, () => {
  it('exit code: the worst over the servers, 4 > 3 > 130 > 2 > 1 > 0', () => {
    assert.equal(worstExitCode([]), 0);
    assert.equal(worstExitCode([0, 1, 0]), 1);
    assert.equal(worstExitCode([1, 2]), 2);
    assert.equal(worstExitCode([2, 130, 1]), 130);
    assert.equal(worstExitCode([130, 3, 0]), 3);
    assert.equal(worstExitCode([3, 4, 130]), 4);
  });

  it('a server is finished when ok, or partial with nothing unknown', () => {
    const base = { name: 'a', url: 'https://a:2222', user: 'admin', dir: '/x', attempts: 1 };
    const counts = { rotated: 3, revoked: 0, failed: 1, unknown: 0, skipped: 0, 'not-started': 0, planned: 0 };
    assert.equal(isFinished({ ...base, status: 'ok' }), true);
    assert.equal(isFinished({ ...base, status: 'partial', counts }), true);
    assert.equal(isFinished({ ...base, status: 'partial', counts: { ...counts, unknown: 1 } }), false);
    assert.equal(isFinished({ ...base, status: 'running' }), false);
    assert.equal(isFinished({ ...base, status: 'aborted' }), false);
    assert.equal(isFinished({ ...base, status: 'interrupted', counts }), false);
  });

  it('run ids are unique and created exclusively', async () => {
    const out = mkdtempSync(join(tmpdir(), 'da-fleet-m-'));
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add((await createRunDir(out)).runId);
    assert.equal(ids.size, 50);
    assert.equal(readdirSync(out).length, 50);
    assert.match(newRunId(new Date('2025-01-02T03:04:05.678Z')), /^20250102T030405Z-[a-z0-9]{6}$/);
    for (const id of ids) assert.match(id, RUN_ID);
  });

  it('writes whole files with mode 0600 and never follows a planted temp link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-fleet-w-'));
    const path = join(dir, 'fleet.json');
    await writeFileAtomic(path, '{"a":1}\n');
    await writeFileAtomic(path, '{"a":2}\n');
    assert.equal(readFileSync(path, 'utf8'), '{"a":2}\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['fleet.json'], 'no temp file left behind');
    assert.throws(() => readManifest(dir, '../etc'), UsageError);
    // Temp names are random: links planted at guessable names are never written through.
    const target = join(dir, 'victim');
    for (let n = 1; n < 200; n++) symlinkSync(target, `${path}.${process.pid}.${n}.tmp`);
    await writeFileAtomic(path, '{"a":3}\n');
    assert.equal(readFileSync(path, 'utf8'), '{"a":3}\n');
    assert.equal(existsSync(target), false, 'nothing written through a planted link');
  });

  it('summary cells cannot run as spreadsheet formulas', () => {
    const csv = summaryCsv([
      summaryRow({ name: 'a', url: 'https://a:2222', user: 'admin', dir: '/x', attempts: 1, status: 'aborted', exitCode: 3, error: '=HYPERLINK("x")' }),
    ]);
    assert.equal(csv.split('\n')[1], `a,https://a:2222,admin,aborted,3,0,0,0,0,0,0,0,0,0,,,,"'=HYPERLINK(""x"")"`);
  });
});
