// Loaded before every test file (npm test), in each test file's own process: locks and last-run
// records go to a private state directory of that file, never the operator's ~/.local/state and
// never another file's (files run side by side, and a simulator's port reused by another file must
// not find that file's last run of "its" server).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'da-rotate-state-'));
// The host-wide per-server locks too: a private directory of this file, not /run/lock.
process.env.DA_ROTATE_LOCK_DIR = mkdtempSync(join(tmpdir(), 'da-rotate-locks-'));
