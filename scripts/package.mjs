// `npm run package`: dist/da-rotate.mjs, one file holding the CLI and every runtime dependency, for
// servers that have node (>= 20.19) but no npm and no clone: copy the file, run `node da-rotate.mjs`.
//
// esbuild bundles src/cli.ts with every package through its public entry point (undici, yargs,
// age-encryption, csv-*, smol-toml, p-limit, nodemailer); nothing is aliased or stubbed. Dynamic
// import()s of our own modules are inlined (no splitting), so nothing is looked up beside the file.
// The simulator (a test stand-in, with the dev dependency selfsigned) is left out: `simulate` says so.
// undici's llhttp WebAssembly ships inside undici's own JS (base64), so it is bundled like any code.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist', 'da-rotate.mjs');
/** What `--version` prints: the version, and that this is the single-file build. */
const VERSION = `${pkg.version} (single-file build, node >= ${pkg.engines.node.replace(/^>=\s*/, '')})`;

/** `da-rotate simulate` in this build: one clear line instead of the simulator and its dev dependencies. */
const noSimulator = {
  name: 'no-simulator',
  setup(b) {
    b.onResolve({ filter: /^\.\/simulator\/main\.js$/ }, (args) =>
      args.importer === join(root, 'src', 'cli.ts') ? { path: 'simulator-left-out', namespace: 'no-simulator' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'no-simulator' }, () => ({
      loader: 'js',
      contents:
        "export async function runSimulatorMain() { throw new Error('the simulator is not part of the single-file build (dist/da-rotate.mjs); run it from a clone: npm ci && npm run sim'); }",
    }));
  },
};

mkdirSync(dirname(outfile), { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outfile,
  bundle: true,
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  define: { __DA_ROTATE_VERSION__: JSON.stringify(VERSION) },
  // Bundled CommonJS (undici, nodemailer, yargs' helpers) calls require() for node builtins; an ES
  // module has no require of its own, so it gets node's, made for this file.
  banner: {
    js: "import { createRequire as __daRotateCreateRequire } from 'node:module';\nconst require = __daRotateCreateRequire(import.meta.url);",
  },
  plugins: [noSimulator],
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
process.stdout.write(`${outfile}: ${(statSync(outfile).size / 1024).toFixed(0)} KiB, da-rotate ${VERSION}\n`);
