// docs/options.md is generated from the options table (scripts/options-doc.mjs, `npm run docs`): the committed
// file must be what the generator writes, and what it writes must say what the table says, command by command.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { OPTIONS_DOC, renderOptionsDoc } from '../../scripts/options-doc.mjs';
import { OPTIONS } from '../../src/options/table.js';
import type { OptionSpec } from '../../src/options/types.js';

/** The text of one command's section: from its heading to the next. */
function section(doc: string, command: string): string {
  const start = doc.indexOf(`\n## da-rotate ${command}\n`);
  assert.ok(start >= 0, `no section for ${command}`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The table row of `--name` in a section, or undefined. */
function row(text: string, name: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(`| \`--${name}\``));
}

describe('docs/options.md', { timeout: 30_000 }, () => {
  const doc: string = renderOptionsDoc();

  test('the committed file is what `npm run docs` generates', () => {
    // Not assert.equal: its diff of two 60 kB strings would bury the one line that matters.
    assert.ok(readFileSync(OPTIONS_DOC, 'utf8') === doc, 'docs/options.md is stale: run `npm run docs`');
  });

  test("each command's section lists exactly the options the table gives that command", () => {
    for (const command of ['rotate', 'plan', 'resume', 'verify', 'notify', 'key-scope', 'prune']) {
      const text = section(doc, command);
      for (const [name, spec] of Object.entries(OPTIONS) as Array<[string, OptionSpec]>) {
        const listed = row(text, name) !== undefined;
        assert.equal(listed, spec.commands.includes(command as OptionSpec['commands'][number]), `--${name} in ${command}`);
      }
    }
  });

  test('rows carry type, default, accepted values, alias and help text', () => {
    const rotate = section(doc, 'rotate');
    assert.equal(
      row(rotate, 'concurrency'),
      "| `--concurrency` | number or `auto` |  | a whole number from 1 to 64, or `auto` | Requests in flight at once: 1 to 64, or auto (start at 8, grow while latency holds, back off on slowdowns, 5xx and resets; never above 64). Default 8; resume: the interrupted run's |",
    );
    assert.equal(
      row(rotate, 'format'),
      '| `--format` | text | `json` | `json`, `urlencoded` | Answer format asked of DirectAdmin (both are always understood) |',
    );
    assert.match(row(rotate, 'yes') ?? '', /^\| `--yes`, `-y` \| flag \|/);
    assert.match(row(rotate, 'user') ?? '', /admin\\\|user login-as/, 'a | inside a cell is escaped');
    // plan's own wording of --output (describeFor), rotate's elsewhere.
    assert.match(row(section(doc, 'plan'), 'output') ?? '', /Plan CSV path/);
    assert.match(row(rotate, 'output') ?? '', /Report CSV path/);
    assert.match(row(section(doc, 'prune'), 'older-than') ?? '', /30d, 12h/);
  });

  test("the simulator's options are listed", () => {
    const sim = section(doc, 'simulate');
    assert.match(sim, /\| `--degrade-capacity` \| text \| past N requests at once every request slows by/);
    assert.match(sim, /\| `--tls` \| flag \|/);
  });
});
