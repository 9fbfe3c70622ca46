import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, SecretRegistry, setLogServer, type LevelWithSilent } from '../../src/log.js';

function capture(level: LevelWithSilent, secrets = new SecretRegistry()) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return {
    log: createLogger({ level, secrets, destination, runId: 'run-1', version: '9.9.9' }),
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the JSON-line logger', { timeout: 10_000 }, () => {
  it('writes pino lines: level label, ISO time, pid, run id, version, server once known, fields, msg', () => {
    const { log, records } = capture('info');
    log.info({ server: 'https://da.example.com:2222', selected: 3 }, 'connecting');
    log.warn('a warning');
    const [a, b] = records();
    assert.deepEqual(Object.keys(a!), ['level', 'time', 'pid', 'runId', 'version', 'server', 'selected', 'msg']);
    assert.equal(a!.runId, 'run-1');
    assert.equal(a!.version, '9.9.9');
    assert.equal(a!.level, 'info');
    assert.match(String(a!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(a!.pid, process.pid);
    assert.equal(a!.selected, 3);
    assert.equal(a!.msg, 'connecting');
    assert.deepEqual(b, { level: 'warn', time: b!.time, pid: process.pid, runId: 'run-1', version: '9.9.9', msg: 'a warning' });
    setLogServer(log, 'https://da.example.com:2222');
    log.error(new Error('refused'));
    const c = records()[2]!;
    assert.equal(c.server, 'https://da.example.com:2222', 'errors carry the server');
    assert.equal(c.msg, 'refused');
  });

  it('writes nothing below its level, and says which levels are on', () => {
    const { log, lines } = capture('warn');
    log.trace({ a: 1 }, 'x');
    log.debug('x');
    log.info('x');
    assert.equal(lines.length, 0);
    assert.equal(log.isLevelEnabled('info'), false);
    assert.equal(log.isLevelEnabled('warn'), true);
    log.error('boom');
    assert.equal(lines.length, 1);
    const silent = capture('silent');
    silent.log.fatal('x');
    assert.equal(silent.lines.length, 0);
  });

  it('keeps secrets out: by key at any depth, by value in fields and messages, inside errors', () => {
    const secrets = new SecretRegistry();
    secrets.add('hunter2-secret');
    const { log, lines } = capture('trace', secrets);
    log.info({ password: 'anything', nested: { loginKey: 'k', deeper: { passwd: 'p' } }, note: 'was hunter2-secret' }, 'the secret hunter2-secret leaked?');
    log.error(new Error('server said hunter2-secret'), 'failed');
    log.warn({ err: new Error('again hunter2-secret') });
    const all = lines.join('\n');
    assert.doesNotMatch(all, /hunter2-secret|anything|"k"|"p"/);
    assert.equal(lines.length, 3);
    // JSON.parse gives `any`: each line is probed field by field below.
    const [a, b, c] = [0, 1, 2].map((i) => JSON.parse(lines[i]!));
    assert.equal(a.password, '[REDACTED]');
    assert.equal(a.nested.loginKey, '[REDACTED]');
    assert.equal(a.nested.deeper.passwd, '[REDACTED]');
    assert.equal(a.msg, 'the secret [REDACTED] leaked?');
    assert.equal(b.err.type, 'Error');
    assert.equal(b.msg, 'failed');
    assert.equal(c.err.message, 'again [REDACTED]');
  });

  it('still writes a line for a record it cannot serialize', () => {
    const { log, records } = capture('info');
    log.info({ n: 10n }, 'big');
    assert.equal(records()[0]!.msg, 'big');
  });

  it('child loggers carry their bindings', () => {
    const { log, records } = capture('info');
    log.child({ server: 'a' }).info('hello');
    assert.equal(records()[0]!.server, 'a');
  });

  it('--log-format text: the same records as "level: text (fields)" lines, secrets scrubbed, no JSON', () => {
    const secrets = new SecretRegistry();
    secrets.add('hunter2-secret');
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        cb();
      },
    });
    const log = createLogger({ level: 'info', secrets, destination, format: 'text', runId: 'run-1', version: '9.9.9' });
    setLogServer(log, 'https://h:2222');
    log.warn({ accounts: 3, note: 'a b' }, 'careful with hunter2-secret');
    log.error(new Error('refused'));
    assert.deepEqual(lines, ['warn: careful with [REDACTED] (server=https://h:2222, accounts=3, note="a b")', 'error: refused (server=https://h:2222)']);
  });
});
