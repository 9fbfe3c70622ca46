// Loaded before every test file (npm test): locks and last-run records go to a private state
// directory of this test run, never the operator's ~/.local/state, and never shared between runs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.DA_ROTATE_TEST_STATE) {
  process.env.DA_ROTATE_TEST_STATE = '1';
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'da-rotate-state-'));
  // The host-wide per-server locks too: a private directory of this test run, not /run/lock.
  process.env.DA_ROTATE_LOCK_DIR = mkdtempSync(join(tmpdir(), 'da-rotate-locks-'));
}
