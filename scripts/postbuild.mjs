// After tsc: bundle the CLI with esbuild into dist/cli.js (tsc's dist/ modules stay for the library,
// the demo and the tests). Start-up is most of a small run's cost: one file per code path, loaded
// when that path is taken, compiles much faster than hundreds of modules resolved one by one.
//   dist/cli.js                entry: --version, argument parsing without yargs
//   dist/cli-chunks/*.js       yargs (help and usage errors), the run, the simulator: on demand
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * undici's index loads every dispatcher, fetch, WebSocket, caches and mocks (about 80 ms); the
 * client uses Pool (with its own dispatch handler, none of undici's request API) and
 * buildConnector. This stand-in loads those two only. If the client ever imports anything else
 * from undici, esbuild fails the build ("No matching export"), so this cannot go stale silently.
 *
 * HTTP/2 is left out as well: undici's client-h2.js loads node:http2 as it is imported (about
 * 6 ms of every start), and it only runs when TLS negotiates h2, which undici offers only with
 * allowH2, which the client never sets. The stub throws if that ever changes.
 */
const leanUndici = {
  name: 'lean-undici',
  setup(b) {
    // Pure as well: a chunk that does not use the client does not load undici.
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici-lean', namespace: 'lean-undici', sideEffects: false }));
    b.onLoad({ filter: /^undici-lean$/, namespace: 'lean-undici' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: [
        "import Pool from 'undici/lib/dispatcher/pool.js';",
        "import buildConnector from 'undici/lib/core/connect.js';",
        'export { Pool, buildConnector };',
      ].join('\n'),
    }));
    b.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) =>
      args.importer.endsWith(join('undici', 'lib', 'dispatcher', 'client.js')) ? { path: 'client-h2', namespace: 'lean-undici' } : undefined,
    );
    // node:http (eight modules) is asked by undici for two things only: http.maxHeaderSize, read as
    // client.js loads (the transport passes maxHeaderSize itself, so the value here is never used),
    // and IncomingMessage, to tell a proxied request body when destroying one (our bodies are
    // strings). node:assert (four modules) backs plain assert(condition) calls.
    b.onResolve({ filter: /^node:(http|assert)$/ }, (args) =>
      args.importer.includes(join('node_modules', 'undici', 'lib')) ? { path: args.path.slice(5), namespace: 'lean-undici' } : undefined,
    );
    b.onLoad({ filter: /^http$/, namespace: 'lean-undici' }, () => ({
      loader: 'js',
      contents: 'module.exports = { maxHeaderSize: 16384, IncomingMessage: class NotUsedByThisBuild {} };',
    }));
    b.onLoad({ filter: /^assert$/, namespace: 'lean-undici' }, () => ({
      loader: 'js',
      contents: [
        'function assert(value, message) {',
        '  if (value) return;',
        "  const e = new Error(typeof message === 'string' ? message : 'undici: internal assertion failed');",
        "  e.code = 'ERR_ASSERTION';",
        '  throw e;',
        '}',
        'assert.ok = assert;',
        'module.exports = assert;',
      ].join('\n'),
    }));
    // Two more of client-h1's requires, both lazy: fetch's body extractor (only for a body that is a
    // stream, iterable or FormData; every body here is a string) pulls in about 40 KB of fetch and
    // webidl; llhttp without SIMD (72 KB of base64) is only the fallback when WebAssembly SIMD is
    // missing, so it stays in node_modules and is required from there if ever needed.
    b.onResolve({ filter: /^\.\.\/(web\/fetch\/body|llhttp\/llhttp-wasm)\.js$/ }, (args) => {
      if (!args.importer.endsWith(join('undici', 'lib', 'dispatcher', 'client-h1.js'))) return undefined;
      if (args.path.includes('llhttp')) return { path: 'undici/lib/llhttp/llhttp-wasm.js', external: true };
      return { path: 'fetch-body', namespace: 'lean-undici' };
    });
    b.onLoad({ filter: /^fetch-body$/, namespace: 'lean-undici' }, () => ({
      loader: 'js',
      contents:
        "exports.extractBody = function extractBody() { throw new Error('da-rotate: a request body other than a string reached undici; this build leaves fetch bodies out (scripts/postbuild.mjs)'); };",
    }));
    b.onLoad({ filter: /^client-h2$/, namespace: 'lean-undici' }, () => ({
      loader: 'js',
      contents:
        "module.exports = function connectH2() { throw new Error('da-rotate: HTTP/2 was negotiated, but this build of undici leaves it out (scripts/postbuild.mjs)'); };",
    }));
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
  plugins: [pureSources, leanUndici],
  logLevel: 'warning',
});
if (process.env.DA_BUILD_META) (await import('node:fs')).writeFileSync(process.env.DA_BUILD_META, JSON.stringify(result.metafile));
// tsc does not set the executable bit; npm links bins either way, but a direct ./dist/cli.js needs it.
chmodSync(join(dist, 'cli.js'), 0o755);

// yargs' help for `--help` and `<command> --help` at the widths yargs picks for a pipe (100) and
// the usual terminals (80, 110+), rendered now by yargs itself so `--help` need not load it.
// Other widths and any other help request still go through yargs.
{
  const { HELP_LINES, HELP_WIDTHS } = await import(join(dist, 'cli-args.js'));
  const render = (line, width) =>
    new Promise((res, rej) => {
      const code = `const m = await import(${JSON.stringify(join(dist, 'cli-args.js'))});
        await m.parseWithYargs(${JSON.stringify(line)}, { onCommand: async () => process.exit(9), onFail: () => process.exit(8) }, ${JSON.stringify(pkg.version)}, ${width});`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('error', rej);
      child.on('exit', (c) => (c === 0 && out ? res(out) : rej(new Error(`rendering help for ${line.join(' ')} at ${width} exited ${c}`))));
    });
  const help = {};
  await Promise.all(
    HELP_WIDTHS.flatMap((w) =>
      HELP_LINES.map(async (line) => {
        (help[w] ??= {})[line.join(' ')] = await render(line, w);
      }),
    ),
  );
  writeFileSync(join(dist, 'cli-help.json'), JSON.stringify(help));
}
