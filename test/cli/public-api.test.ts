import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lib from '../../src/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The library's run-time names, written out: adding or dropping one is a decision, not a side effect of `export *`. */
const PUBLIC = [
  'AuthenticationFailed',
  'CommandFailed',
  'DirectAdminClient',
  'DirectAdminError',
  'ExitCode',
  'IpBlacklisted',
  'KIND_NAMES',
  'NeedsHttps',
  'NotAReport',
  'REPORT_COLUMNS',
  'REPORT_STATUSES',
  'RedirectRefused',
  'RunAborted',
  'SecretRegistry',
  'StopSignal',
  'TlsFailure',
  'TransportError',
  'UnexpectedAnswer',
  'UsageError',
  'createLogger',
  'generatePassword',
  'isDirectAdminError',
  'keyScope',
  'parseReport',
  'parseServerUrl',
  'policyViolation',
  'readJournal',
  'readReport',
  'runResume',
  'runRotation',
  'runVerify',
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'simulator' ? [] : sources(join(dir, e.name))) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the public API', () => {
  it('exports the curated names and nothing else (no test oracles)', () => {
    assert.deepEqual(Object.keys(lib).sort(), [...PUBLIC].sort());
  });

  it('package.json exports the entry with its types', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', import: './dist/index.js' });
  });

  it('every error class of the tool has a stable code (its own or its parent class’s)', () => {
    const classes = new Map<string, { parent: string; hasCode: boolean; file: string }>();
    for (const file of sources(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/class (\w+) extends (\w+)(?:<[^>]*>)? \{([\s\S]*?)\n\}/g)) {
        classes.set(m[1]!, { parent: m[2]!, hasCode: /readonly code\b/.test(m[3]!), file });
      }
    }
    const errors = [...classes].filter(([, c]) => /Error$/.test(c.parent) || classes.has(c.parent));
    assert.ok(errors.length >= 15, `${errors.length} error classes found`);
    const hasCode = (name: string): boolean => {
      const c = classes.get(name);
      return c ? c.hasCode || hasCode(c.parent) : false;
    };
    const missing = errors.filter(([name, c]) => (c.parent === 'Error' || classes.has(c.parent)) && !hasCode(name)).map(([n, c]) => `${n} (${c.file})`);
    assert.deepEqual(missing, []);
  });
});
