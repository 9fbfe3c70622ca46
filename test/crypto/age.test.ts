import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decryptWithIdentities,
  encryptToRecipients,
  generateKeyPair,
  parseRecipient,
  parseRecipients,
  readIdentityFile,
  readReportText,
  writeEncryptedReport,
} from '../../src/crypto/index.js';
import { UsageError } from '../../src/errors.js';

// Fixed key pair produced by age-keygen (test material only).
const ID = 'AGE-SECRET-KEY-160SKJC8EQ8G8P2W76HEL0R2N9397LWGX5MJRUUJK8W270UT6PHSSAVZZ59';
const RCPT = 'age147ruuzqwujhcw4x0ruf9r2lw3teg2vgd7q3ks52rxqzdexxd95gq4uqyrq';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'da-rotate-age-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

const ageCli = spawnSync('age', ['--version'], { encoding: 'utf8' });
const haveAge = ageCli.status === 0;

describe('age recipients and identities', { timeout: 20_000 }, () => {
  it('accepts an age-keygen recipient and refuses everything else with a UsageError', () => {
    assert.equal(parseRecipient(` ${RCPT} `), RCPT);
    assert.deepEqual(parseRecipients([`${RCPT},${RCPT}`]), [RCPT]);
    const bad = [
      RCPT.slice(0, -1) + (RCPT.endsWith('q') ? 'p' : 'q'), // checksum broken
      RCPT.toUpperCase().replace('AGE1', 'age1'),
      'age1pq1abcdef',
      'ssh-ed25519 AAAAC3Nza',
      'hello',
      '',
    ];
    for (const b of bad) assert.throws(() => parseRecipients([b]), UsageError, b);
  });

  it('refuses a pasted secret key without echoing it', () => {
    assert.throws(
      () => parseRecipient(ID),
      (e: unknown) => e instanceof UsageError && /secret key/.test(e.message) && !e.message.includes('160SKJC8'),
    );
  });

  it('reads an identity file with comments, refuses loose modes, links to nothing, and garbage', () => {
    const good = join(dir, 'key.txt');
    writeFileSync(good, `# created: 2026-11-29T03:27:52Z\n# public key: ${RCPT}\n\n${ID}\n`, { mode: 0o600 });
    assert.deepEqual(readIdentityFile(good), [ID]);

    const loose = join(dir, 'loose.txt');
    writeFileSync(loose, `${ID}\n`, { mode: 0o640 });
    chmodSync(loose, 0o640);
    assert.throws(() => readIdentityFile(loose), /accessible by group or others \(mode 640\); run chmod 600/);

    assert.throws(() => readIdentityFile(join(dir, 'missing.txt')), /--identity: cannot read .*missing.txt: no such file/);

    const garbage = join(dir, 'garbage.txt');
    writeFileSync(garbage, '# only a comment\nAGE-SECRET-KEY-1NOTAKEY\n', { mode: 0o600 });
    assert.throws(
      () => readIdentityFile(garbage),
      (e: unknown) => e instanceof UsageError && /line 2 is not an age identity/.test(e.message) && !e.message.includes('NOTAKEY'),
    );

    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# nothing\n\n', { mode: 0o600 });
    assert.throws(() => readIdentityFile(empty), /holds no age identity/);

    const sub = join(dir, 'adir');
    mkdirSync(sub, { mode: 0o700 });
    assert.throws(() => readIdentityFile(sub), /not a regular file/);
  });
});

describe('age files', { timeout: 30_000 }, () => {
  it('round-trips, and a wrong key or a flipped byte is a clear error', async () => {
    const ct = await encryptToRecipients('server,username\nh,fred\n', [parseRecipient(RCPT)]);
    assert.equal(Buffer.from(ct.subarray(0, 22)).toString(), 'age-encryption.org/v1\n');
    assert.equal(Buffer.from(await decryptWithIdentities(ct, [ID as never])).toString(), 'server,username\nh,fred\n');

    const other = await generateKeyPair();
    await assert.rejects(decryptWithIdentities(ct, [other.identity]), /none of the --identity keys can open it/);
    const flipped = Buffer.from(ct);
    flipped[flipped.length - 5]! ^= 0x01;
    await assert.rejects(decryptWithIdentities(flipped, [ID as never]), /damaged or was altered/);
  });

  it('writes the encrypted report 0600, exclusively, never through a link, and reads it back only with --identity', async () => {
    const path = join(dir, 'r1.csv.age');
    await writeEncryptedReport(path, 'server,username,password\nh,fred,Secret123\n', [parseRecipient(RCPT)]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(!readFileSync(path).toString('latin1').includes('Secret123'));
    await assert.rejects(writeEncryptedReport(path, 'x', [parseRecipient(RCPT)]), /exists: choose another --output or remove it/);

    const link = join(dir, 'link.csv.age');
    symlinkSync(join(dir, 'elsewhere'), link);
    await assert.rejects(writeEncryptedReport(link, 'x', [parseRecipient(RCPT)]), /is a symbolic link: da-rotate never writes through a link/);
    assert.throws(() => statSync(join(dir, 'elsewhere')), /ENOENT/);

    await assert.rejects(readReportText(path), (e: unknown) => e instanceof UsageError && /is encrypted: pass --identity FILE/.test(e.message));
    assert.equal(await readReportText(path, [ID as never]), 'server,username,password\nh,fred,Secret123\n');

    const plain = join(dir, 'plain.csv');
    writeFileSync(plain, 'server,username\n', { mode: 0o600 });
    assert.equal(await readReportText(plain), 'server,username\n');
  });

  it('refuses to write into a directory others can write', async () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await assert.rejects(writeEncryptedReport(join(open, 'r.csv.age'), 'x', [parseRecipient(RCPT)]), /is writable by group or others/);
  });

  it('the age command-line tool decrypts what we write', { skip: haveAge ? false : 'the `age` binary is not installed (apt-get install age)' }, async () => {
    const key = join(dir, 'cli-key.txt');
    writeFileSync(key, `${ID}\n`, { mode: 0o600 });
    const path = join(dir, 'cli.csv.age');
    const text = 'server,username,password\nhttps://h:2222,fred,"Pw,with""quote"\n';
    await writeEncryptedReport(path, text, [parseRecipient(RCPT)]);
    const r = spawnSync('age', ['-d', '-i', key, path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, text);
  });
});
