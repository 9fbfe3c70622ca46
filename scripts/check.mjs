#!/usr/bin/env node
// The static checks of `npm test`, run at the same time (they are independent; on 2 cores this saves
// about a third of their time): type-check of src/ and test/, ESLint, Prettier's check, the layering (dependency-cruiser)
// and the docs (docs/options.md as the options table generates it; every relative link in README.md, CONTRIBUTING.md, docs/ to an existing file).
// Every check runs to the end and prints its own output; the exit code is 1 when any failed.
// `node scripts/check.mjs typecheck lint` runs only those.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const CHECKS = {
  typecheck: [bin('tsc'), ['-p', 'tsconfig.check.json']],
  lint: [bin('eslint'), ['.']],
  format: [bin('prettier'), ['--check', '--log-level', 'warn', '.']],
  // The layering cli -> app -> rotation -> kinds -> directadmin (.dependency-cruiser.cjs): an upward import fails.
  layers: [bin('depcruise'), ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err']],
  // docs/options.md regenerated in memory and compared (`npm run docs` rewrites it), then the relative links of the Markdown files.
  docs: [process.execPath, ['--import', 'tsx', 'scripts/check-docs.mjs']],
};
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in CHECKS)) {
    console.error(`check.mjs: unknown check ${name} (known: ${Object.keys(CHECKS).join(', ')})`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : Object.keys(CHECKS);

function run(name) {
  const [cmd, args] = CHECKS[name];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => resolve({ name, ok: false, output: String(e), ms: Date.now() - started }));
    child.on('close', (code) => resolve({ name, ok: code === 0, output, ms: Date.now() - started }));
  });
}

const results = await Promise.all(names.map(run));
for (const r of results) {
  const seconds = (r.ms / 1000).toFixed(1);
  if (r.ok) console.log(`check ${r.name}: ok (${seconds} s)`);
  else console.error(`check ${r.name}: FAILED (${seconds} s)\n${r.output.trimEnd()}\n`);
}
const failed = results.filter((r) => !r.ok).map((r) => r.name);
if (failed.includes('format')) console.error('check format: run `npm run format` to rewrite the files Prettier lists.');
if (failed.includes('docs')) console.error('check docs: run `npm run docs` to regenerate docs/options.md; fix or remove the links it names.');
process.exitCode = failed.length > 0 ? 1 : 0;
