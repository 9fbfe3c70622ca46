import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupForDelivery, parseReportCsv } from '../../src/notify/credentials.js';
import { loadTemplateFile, renderMessage } from '../../src/notify/template.js';
import { SentLog } from '../../src/notify/sent-log.js';
import { UsageError } from '../../src/errors.js';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'da-rotate-tpl-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('report rows, templates, sent-log', { timeout: 20_000 }, () => {
  it('reads an old report (no kind/credential) as account rows, formula escapes undone', () => {
    const csv =
      'server,username,status,password,attempts,verified,error,started_at,finished_at\n' +
      "https://h:2222,fred,rotated,'=Pw1+x,1,yes,,,\nhttps://h:2222,amy,failed,,3,no,boom,,\n";
    const g = groupForDelivery(parseReportCsv(csv, 'r'), { includeUnknown: false });
    assert.deepEqual(g.bundles, [
      { server: 'https://h:2222', username: 'fred', credentials: [{ kind: 'account', credential: 'fred', password: '=Pw1+x', status: 'rotated' }] },
    ]);
    assert.throws(() => parseReportCsv('a,b\n1,2\n', 'r'), /not a da-rotate report/);
  });

  it('checks a template file before anything is sent', () => {
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const ok = loadTemplateFile(write('ok.txt', '# note\nSubject: Hi {{username}}\n\nDear {{username}}:\n{{credentials}}{{devices_notice}}'), 'password');
    const out = renderMessage(ok, {
      bundle: { server: 's', username: 'fred', credentials: [{ kind: 'email', credential: 'a@fred.example', password: 'P{{username}}w', status: 'rotated' }] },
      mode: 'password',
      to: 'fred@x.example',
      serverHost: 'h',
      panelUrl: 'https://h:2222',
      now: new Date('2026-01-02T00:00:00Z'),
    });
    assert.equal(out.subject, 'Hi fred');
    assert.ok(
      out.text.startsWith('Dear fred:\nMailbox: a@fred.example\n  new password: P{{username}}w\n\nIMPORTANT: the passwords of your mailboxes changed.'),
      out.text,
    );
    assert.match(out.text, /phones?, tablet/);
    const bad: Array<[string, string, 'password' | 'login-link', RegExp]> = [
      ['unknown.txt', 'Subject: x\n\n{{credentials}} {{pasword}}', 'password', /unknown placeholder\(s\) \{\{pasword\}\}/],
      ['subj.txt', 'Subject: {{account_password}}\n\n{{credentials}}', 'password', /subject must not carry/],
      ['nocreds.txt', 'Subject: x\n\nhello', 'password', /needs \{\{credentials\}\}/],
      ['pwinlink.txt', 'Subject: x\n\n{{login_link}} {{account_password}}', 'login-link', /sends no password/],
      ['nolink.txt', 'Subject: x\n\n{{credentials}}', 'login-link', /needs \{\{login_link\}\}/],
      ['nosubject.txt', 'Hello\n\n{{credentials}}', 'password', /must start with a line "Subject: \.\.\."/],
    ];
    for (const [name, text, mode, re] of bad)
      assert.throws(
        () => loadTemplateFile(write(name, text), mode),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
        name,
      );
  });

  it('a torn last sent-log line is dropped, a damaged middle line refused', async () => {
    const path = join(dir, 'r.csv.sent.jsonl');
    const log = await SentLog.open(path, 'https://h:2222', 'r.csv');
    await log.append({ t: 'attempt', account: 'fred', to: 'f@x.example', messageId: '<1@x>', deliver: 'password', at: 'a' });
    await log.append({ t: 'sent', account: 'fred', to: 'f@x.example', messageId: '<1@x>', response: '250 ok', at: 'b' });
    await log.close();
    appendFileSync(path, '{"t":"attempt","account":"amy"');
    const again = await SentLog.open(path, 'https://h:2222', 'r.csv');
    assert.deepEqual([...again.deliveries.entries()], [['fred', { state: 'sent', messageId: '<1@x>', to: 'f@x.example' }]]);
    await again.close();
    assert.ok(readFileSync(path, 'utf8').endsWith('"at":"b"}\n'));
    await assert.rejects(SentLog.open(path, 'https://other:2222', 'r.csv'), /belongs to https:\/\/h:2222/);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"t":"sent"', 'garbage'));
    await assert.rejects(SentLog.open(path, 'https://h:2222', 'r.csv'), /damaged at line 3/);
  });
});
