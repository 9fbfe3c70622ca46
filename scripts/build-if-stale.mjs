// `npm run demo` after `npm ci`: the install's `prepare` has just built dist/, so building again
// would only double the wait. Builds (npm run build) only when dist/cli.js is missing or older
// than any source, config or build script; says which.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function newest(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e))));
}

const built = statSync(join(root, 'dist', 'cli.js'), { throwIfNoEntry: false })?.mtimeMs ?? 0;
const inputs = ['src', 'tsconfig.json', 'package.json', 'package-lock.json', join('scripts', 'postbuild.mjs')].map((p) => join(root, p));
const stale = inputs.filter((p) => newest(p) > built);
if (built > 0 && stale.length === 0) {
  console.log('dist/ is up to date with src/: not building again');
} else {
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
