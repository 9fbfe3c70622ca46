// After tsc: bundle the CLI with esbuild into dist/cli.js (tsc's dist/ modules stay for the library,
// the demo and the tests). Start-up is most of a small run's cost: one file per code path, loaded
// when that path is taken, compiles much faster than hundreds of modules resolved one by one.
//   dist/cli.js                entry
//   dist/cli-chunks/*.js       the command line (yargs), the run, the simulator: on demand
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/**
 * The project's own modules have no import-time side effects: saying so lets esbuild drop what a
 * chunk does not use (options.ts needs directadmin/url.ts, not the undici client beside it).
 */
const pureSources = {
  name: 'pure-sources',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData === 'pure-sources' || !args.importer.startsWith(join(root, 'src'))) return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'pure-sources' });
      if (r.errors.length) return { errors: r.errors };
      return r.path.startsWith(join(root, 'src')) ? { path: r.path, sideEffects: false } : undefined;
    });
  },
};

rmSync(join(dist, 'cli-chunks'), { recursive: true, force: true });
const result = await build({
  metafile: true,
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: dist,
  chunkNames: 'cli-chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // DA_BUILD_MINIFY=0 keeps names readable in CPU profiles.
  minify: process.env.DA_BUILD_MINIFY !== '0',
  // Stack traces of internal errors should still name functions.
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // selfsigned is a dev dependency the simulator loads only for --tls; nodemailer is big and lazy.
  external: ['selfsigned', 'nodemailer'],
  define: { __DA_ROTATE_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS (undici, pino's deps) calls require(); ESM output has none of its own.
  // process.getBuiltinModule (Node 20.16+) rather than node:module's createRequire, which loads
  // node:module and its source-map support on every start; only builtins are required this way.
  banner: {
    js: "const require = (id) => process.getBuiltinModule(id) ?? process.getBuiltinModule('node:module').createRequire(import.meta.url)(id);",
  },
  plugins: [pureSources],
  logLevel: 'warning',
});
if (process.env.DA_BUILD_META) (await import('node:fs')).writeFileSync(process.env.DA_BUILD_META, JSON.stringify(result.metafile));
// tsc does not set the executable bit; npm links bins either way, but a direct ./dist/cli.js needs it.
chmodSync(join(dist, 'cli.js'), 0o755);
