import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, daUrl, ROOT, runCli, summaryOf } from './cli-runner.js';
import { withSim } from './simulator-fixtures.js';

describe('the built package', { timeout: 120_000 }, () => {
  it('has an executable bin that reports the package version', async () => {
    assert.ok(statSync(CLI).mode & 0o100, 'dist/cli.js is executable');
    assert.match(readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    assert.equal(pkg.bin['da-rotate'], 'dist/cli.js');
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('rotates with the HTTP parser the bundle leaves in node_modules (no WebAssembly SIMD)', async () => {
    // The bundle carries llhttp built for SIMD only; without SIMD undici requires the other build from node_modules.
    await withSim({ users: 5, resellers: 0 }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim), UNDICI_NO_WASM_SIMD: '1' } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(summaryOf(r).counts.rotated, 5);
    });
  });

  it('exposes the core as a library', async () => {
    const lib = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as Record<string, unknown>;
    for (const name of [
      'DirectAdminClient',
      'runRotation',
      'runResume',
      'runVerify',
      'generatePassword',
      'readJournal',
      'parseServerUrl',
      'AuthenticationFailed',
    ]) {
      assert.equal(typeof lib[name], 'function', name);
    }
  });

  it('has every export the scripts import from dist/ (npm run demo and bench load them)', async () => {
    // A module moved or renamed in src/ broke `npm run demo` once without failing a test.
    const scripts = ['demo.mjs', 'bench.mjs', ...readdirSync(join(ROOT, 'scripts', 'bench')).map((f) => `bench/${f}`)];
    let checked = 0;
    for (const script of scripts) {
      const text = readFileSync(join(ROOT, 'scripts', script), 'utf8');
      for (const m of text.matchAll(/^import \{([^}]+)\} from '(?:\.\.\/)+(dist\/[^']+)';$/gm)) {
        const mod = (await import(pathToFileURL(join(ROOT, m[2]!)).href)) as Record<string, unknown>;
        for (const name of m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) {
          assert.notEqual(mod[name], undefined, `scripts/${script} imports ${name} from ${m[2]}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 2, `${checked} imports checked`);
  });

  it('answers an unknown command or option with a usage error, exit 2', async () => {
    const a = await runCli(['rotat']);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /^da-rotate: /m);
    const b = await runCli(['plan', '--concurency', '4']);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /Unknown argument/);
    const c = await runCli(['simulate', '--bogus']);
    assert.equal(c.code, 2);
  });
});
