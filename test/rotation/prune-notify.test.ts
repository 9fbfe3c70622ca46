import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prune } from '../../src/rotation/prune.js';

describe('prune: what notify left beside the reports', () => {
  it('removes a report with its sent-log, and old notify-<time>/ .eml directories, keeping the newest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'da-rotate-prune-'));
    try {
      const stamps = ['20261101T040000.000Z', '20261102T040000.000Z'];
      for (const t of stamps) {
        writeFileSync(join(dir, `plan-da_2222-${t}.csv`), 'x');
        writeFileSync(join(dir, `plan-da_2222-${t}.csv.sent.jsonl`), 'x');
        mkdirSync(join(dir, `notify-${t}`));
        writeFileSync(join(dir, `notify-${t}`, 'alice.eml'), 'x');
      }
      // Not only .eml files: not ours to remove.
      mkdirSync(join(dir, 'notify-20261001T040000.000Z'));
      writeFileSync(join(dir, 'notify-20261001T040000.000Z', 'notes.txt'), 'x');

      const dry = await prune({ dir, keep: 1, delete: false });
      assert.deepEqual(
        dry.removed.map((f) => f.slice(dir.length + 1)),
        [
          'notify-20261101T040000.000Z',
          'notify-20261101T040000.000Z/alice.eml',
          'plan-da_2222-20261101T040000.000Z.csv',
          'plan-da_2222-20261101T040000.000Z.csv.sent.jsonl',
        ],
      );
      assert.ok(existsSync(join(dir, 'notify-20261101T040000.000Z', 'alice.eml')));
      await prune({ dir, keep: 1, delete: true });
      assert.equal(existsSync(join(dir, 'notify-20261101T040000.000Z')), false);
      assert.equal(existsSync(join(dir, 'plan-da_2222-20261101T040000.000Z.csv.sent.jsonl')), false);
      assert.ok(existsSync(join(dir, 'notify-20261102T040000.000Z', 'alice.eml')));
      assert.ok(existsSync(join(dir, 'plan-da_2222-20261102T040000.000Z.csv.sent.jsonl')));
      assert.ok(existsSync(join(dir, 'notify-20261001T040000.000Z', 'notes.txt')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
