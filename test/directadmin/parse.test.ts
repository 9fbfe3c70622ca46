import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthenticationFailed,
  CommandFailed,
  IpBlacklisted,
  NeedsHttps,
  RedirectRefused,
  UnexpectedAnswer,
  classifyHttp,
  decodeNumericEntities,
  parseAction,
  parseFlag,
  parseKeyValues,
  parseList,
  parseUrlEncoded,
  safeLocation,
} from '../../src/directadmin/index.js';

const C = 'CMD_API_USER_PASSWD';

describe('url-encoded answers', { timeout: 30_000 }, () => {
  it('reads an action success and judges it by error=0', () => {
    assert.deepEqual(parseAction(C, 200, 'error=0&text=Password Changed&details='), { text: 'Password Changed', details: '' });
    assert.deepEqual(parseAction(C, 200, 'error=0&text=Password%20Changed&details=\n'), { text: 'Password Changed', details: '' });
  });

  it('turns error=1 into CommandFailed with text and details', () => {
    assert.throws(
      () => parseAction(C, 200, 'error=1&text=Cannot%20change%20password&details=Passwords%20do%20not%20match'),
      (err: unknown) =>
        err instanceof CommandFailed &&
        err.text === 'Cannot change password' &&
        err.details === 'Passwords do not match' &&
        !err.retryable &&
        !err.mayHaveWritten,
    );
  });

  it('decodes DirectAdmin over-encoding: digits, underscore, dot, dash, space', () => {
    const kv = parseKeyValues(
      'CMD_API_SHOW_USER_CONFIG',
      200,
      'date%5Fcreated=Tue%20Oct%20%20%36%20%31%34%3A%30%32%3A%31%38%20%32%30%32%30&domain=example%2Ecom&user%2Dname=a%2Db',
    );
    assert.equal(kv['date_created'], 'Tue Oct  6 14:02:18 2020');
    assert.equal(kv['domain'], 'example.com');
    assert.equal(kv['user-name'], 'a-b');
  });

  it('undoes HTML numeric entities, percent-encoded or raw', () => {
    const encoded = 'error=0&text=Key%20created&details=XvDZAcrcrucEdLNgC%26%23%34%39%3BPY';
    assert.equal(parseAction('CMD_API_LOGIN_KEYS', 200, encoded).details, 'XvDZAcrcrucEdLNgC1PY');
    const raw = 'error=0&text=ok&details=abc&#49;&#x32;def';
    assert.equal(parseAction('CMD_API_LOGIN_KEYS', 200, raw).details, 'abc12def');
    assert.equal(decodeNumericEntities('&#1114112;&#55296;'), '&#1114112;&#55296;');
  });

  it('reads lists with plain or percent-encoded brackets', () => {
    assert.deepEqual(parseList('L', 200, 'list[]=alice&list[]=bob'), ['alice', 'bob']);
    assert.deepEqual(parseList('L', 200, 'list%5B%5D=alice&list%5B%5D=bob%31'), ['alice', 'bob1']);
  });

  it('accepts both forms of the empty list', () => {
    assert.deepEqual(parseList('L', 200, ''), []);
    assert.deepEqual(parseList('L', 200, '\n'), []);
    assert.deepEqual(parseList('L', 200, 'error=0'), []);
    assert.deepEqual(parseList('L', 200, 'error=0&text=&details='), []);
  });

  it('refuses a list answer that is something else', () => {
    assert.throws(() => parseList('L', 200, 'foo=bar'), UnexpectedAnswer);
    assert.throws(
      () => parseList('CMD_API_SHOW_RESELLERS', 200, 'error=1&text=You%20cannot%20execute%20that%20command'),
      (e: unknown) => e instanceof CommandFailed && e.text === 'You cannot execute that command',
    );
  });

  it('reads verification and existence flags', () => {
    assert.equal(parseFlag('V', 200, 'valid=1', 'valid'), true);
    assert.equal(parseFlag('V', 200, 'valid=%30', 'valid'), false);
    assert.equal(parseFlag('E', 200, 'error=0&exists=1', 'exists'), true);
    assert.equal(parseFlag('E', 200, 'exists=0', 'exists'), false);
    assert.throws(() => parseFlag('V', 200, 'valid=maybe', 'valid'), UnexpectedAnswer);
    assert.throws(() => parseFlag('V', 200, 'text=hello', 'valid'), UnexpectedAnswer);
    assert.throws(() => parseFlag('E', 200, 'error=1&text=no', 'exists'), CommandFailed);
  });

  it('keeps repeated keys in order', () => {
    assert.deepEqual(parseUrlEncoded('a=1&a=2&b=%33').get('a'), ['1', '2']);
  });
});

describe('JSON answers', { timeout: 30_000 }, () => {
  it('reads action success and error', () => {
    assert.deepEqual(parseAction(C, 200, '{"success":"Password Changed","result":""}'), { text: 'Password Changed', details: '' });
    assert.deepEqual(parseAction(C, 200, '{"success":"Password Changed","result":"","extended":"true"}').text, 'Password Changed');
    assert.throws(
      () => parseAction(C, 200, '{"error":"Cannot change password","result":"Password is too short"}'),
      (e: unknown) => e instanceof CommandFailed && e.text === 'Cannot change password' && e.details === 'Password is too short',
    );
    assert.throws(
      () => parseAction(C, 200, '{"error":"1","text":"Cannot change password","details":"x"}'),
      (e: unknown) => e instanceof CommandFailed && e.text === 'Cannot change password',
    );
    assert.deepEqual(parseAction(C, 200, '{"error":"0","text":"Password Changed"}').text, 'Password Changed');
  });

  it('never takes an object without success for a success', () => {
    assert.throws(() => parseAction(C, 200, '{}'), UnexpectedAnswer);
    assert.throws(() => parseAction(C, 200, '{"result":"Password Changed"}'), UnexpectedAnswer);
    assert.throws(() => parseAction(C, 200, '["Password Changed"]'), UnexpectedAnswer);
    assert.throws(() => parseAction(C, 200, '"ok"'), UnexpectedAnswer);
    assert.throws(() => parseAction(C, 200, '{"success":"Password Cha'), UnexpectedAnswer);
  });

  it('reads every list variant', () => {
    assert.deepEqual(parseList('L', 200, '["alice","bob"]'), ['alice', 'bob']);
    assert.deepEqual(parseList('L', 200, '{"1":"bob","0":"alice","10":"zed"}'), ['alice', 'bob', 'zed']);
    assert.deepEqual(parseList('L', 200, '{"list":["alice"]}'), ['alice']);
    assert.deepEqual(parseList('L', 200, '[]'), []);
    assert.deepEqual(parseList('L', 200, '{}'), []);
    assert.throws(() => parseList('L', 200, '[1,2]'), UnexpectedAnswer);
    assert.throws(() => parseList('L', 200, '{"name":"x"}'), UnexpectedAnswer);
    assert.throws(() => parseList('L', 200, '{"error":"You cannot execute that command","result":""}'), CommandFailed);
  });

  it('reads flat config objects and flags', () => {
    const kv = parseKeyValues('CMD_API_SHOW_USER_CONFIG', 200, '{"username":"fred","suspended":"no","bandwidth":1000}');
    assert.equal(kv['username'], 'fred');
    assert.equal(kv['bandwidth'], '1000');
    assert.equal(parseFlag('V', 200, '{"valid":"1"}', 'valid'), true);
    assert.equal(parseFlag('V', 200, '{"valid":0}', 'valid'), false);
  });
});

describe('answers that are not API answers', { timeout: 30_000 }, () => {
  it('treats empty, HTML, truncated and binary bodies as unknown, never success', () => {
    for (const body of ['', '   ', '<html><body>502 Bad Gateway</body></html>', '<!DOCTYPE html><p>x', '{"success":', '\u0000\u0001garbage', 'ab\ufffdcd']) {
      assert.throws(
        () => parseAction(C, 200, body),
        (e: unknown) => e instanceof UnexpectedAnswer && e.mayHaveWritten === true,
        JSON.stringify(body),
      );
    }
  });

  it('a plain word is not a success', () => {
    assert.throws(() => parseAction(C, 200, 'OK'), UnexpectedAnswer);
    assert.throws(() => parseAction(C, 200, 'text=Password%20Changed'), UnexpectedAnswer);
  });
});

describe('HTTP-level classification', { timeout: 30_000 }, () => {
  const h = (headers: Record<string, string>, status = 200, body = '') => classifyHttp(C, { status, headers, body });

  it('recognises every authentication failure form', () => {
    const page = '<html><head><title>DirectAdmin Login</title></head></html>';
    assert.ok(h({ 'x-directadmin': 'unauthorized' }, 200, page) instanceof AuthenticationFailed);
    assert.ok(h({ 'x-directadmin': 'UnAuthorized' }) instanceof AuthenticationFailed);
    assert.ok(h({}, 200, page) instanceof AuthenticationFailed);
    assert.ok(h({}, 200, '<script>var x = {AUTH_METHOD: "CMD_LOGIN"}</script>') instanceof AuthenticationFailed);
    assert.ok(h({}, 401) instanceof AuthenticationFailed);
    assert.ok(h({}, 401, '{"type":"UNAUTHORIZED"}') instanceof AuthenticationFailed);
    assert.ok(h({}, 200, '{"type":"UNAUTHORIZED"}') instanceof AuthenticationFailed);
    const e = h({}, 401)!;
    assert.equal(e.fatal, true);
    assert.equal(e.retryable, false);
  });

  it('recognises a blacklisted IP whatever the status', () => {
    for (const status of [200, 403, 401]) {
      const e = h({}, status, '<html>Your IP is blacklisted</html>');
      assert.ok(e instanceof IpBlacklisted, String(status));
      assert.equal(e.fatal, true);
    }
  });

  it('recognises a server that needs https', () => {
    assert.ok(h({ 'x-use-https': 'yes' }) instanceof NeedsHttps);
    assert.ok(h({}, 200, 'use https') instanceof NeedsHttps);
  });

  it('reports redirects without following them or leaking their query', () => {
    const e = h({ location: 'https://other.example:2222/CMD_LOGIN?key=SECRET' }, 302);
    assert.ok(e instanceof RedirectRefused);
    assert.equal(e.location, 'https://other.example:2222/CMD_LOGIN');
    assert.ok(!e.message.includes('SECRET'));
    assert.equal(safeLocation('/relative?x=1'), '/relative');
  });

  it('maps 5xx to a retryable unknown outcome and 4xx to a non-retryable one', () => {
    const e5 = h({}, 503, 'Service Unavailable');
    assert.ok(e5 instanceof UnexpectedAnswer);
    assert.equal(e5.retryable, true);
    assert.equal(e5.mayHaveWritten, true);
    const e4 = h({}, 404, 'not found');
    assert.ok(e4 instanceof UnexpectedAnswer);
    assert.equal(e4.retryable, false);
  });

  it('lets a normal answer through', () => {
    assert.equal(h({ 'content-type': 'text/plain' }, 200, 'error=0&text=Login%20OK'), undefined);
  });
});
