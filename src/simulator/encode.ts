/** DirectAdmin's answer formats, quirks included, so the client is tested against the real shapes. */

export interface FormatOptions {
  /** JSON lists: `["a"]`, `{"0":"a"}` or `{"list":["a"]}`. */
  listStyle?: 'array' | 'object' | 'wrapped';
  /** url-encoded list key: `list[]` or `list%5B%5D`. */
  bracketStyle?: 'plain' | 'encoded';
  /** url-encoded empty list: an empty body, or a body without any list key (`error=0`). */
  emptyList?: 'empty-body' | 'no-key';
  /** Write digits inside values (text, details, list items, config values) as HTML numeric entities (`&#49;`). */
  entities?: boolean;
  /** Add `"extended":"true"` to JSON successes. */
  jsonExtended?: boolean;
  /**
   * Errors carry the reason in `text` and the headline in `details` (the shared notes do not
   * confirm which goes where): `error=1&text=Passwords do not match&details=Cannot change password`.
   */
  swapErrorText?: boolean;
}

/**
 * DirectAdmin percent-encodes everything but letters: digits become %30-%39, `_` %5F, `.` %2E,
 * `-` %2D, space %20. Non-ASCII goes out as its UTF-8 bytes.
 */
export function daEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) out += s[i];
    else if (c < 0x80) out += HEX[c];
    else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += HEX[b];
    }
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, b) => '%' + b.toString(16).toUpperCase().padStart(2, '0'));

export function digitEntities(s: string): string {
  return s.replace(/[0-9]/g, (d) => `&#${d.charCodeAt(0)};`);
}

export function formBody(pairs: Array<[string, string]>, f: FormatOptions, entityKeys: ReadonlySet<string> = new Set(['text', 'details'])): string {
  return pairs.map(([k, v]) => `${daEncode(k)}=${daEncode(f.entities && entityKeys.has(k) ? digitEntities(v) : v)}`).join('&');
}

export function actionBody(json: boolean, ok: boolean, text: string, details: string, f: FormatOptions): string {
  if (!ok && f.swapErrorText && details !== '') [text, details] = [details, text];
  if (json) {
    if (ok) return JSON.stringify(f.jsonExtended ? { success: text, result: details, extended: 'true' } : { success: text, result: details });
    return JSON.stringify({ error: text, result: details });
  }
  return formBody(
    [
      ['error', ok ? '0' : '1'],
      ['text', text],
      ['details', details],
    ],
    f,
  );
}

export function listBody(json: boolean, names: readonly string[], f: FormatOptions): string {
  if (json) {
    if (f.listStyle === 'object') return JSON.stringify(Object.fromEntries(names.map((n, i) => [String(i), n])));
    if (f.listStyle === 'wrapped') return JSON.stringify({ list: names });
    return JSON.stringify(names);
  }
  if (names.length === 0) return f.emptyList === 'no-key' ? 'error=0' : '';
  const key = f.bracketStyle === 'plain' ? 'list[]' : 'list%5B%5D';
  // Joined by hand: 100 000 names must not cost an intermediate array of pairs.
  let out = '';
  for (let i = 0; i < names.length; i++) out += (i ? '&' : '') + key + '=' + daEncode(f.entities ? digitEntities(names[i]!) : names[i]!);
  return out;
}

export function keyValueBody(json: boolean, kv: Record<string, string>, f: FormatOptions): string {
  if (json) return JSON.stringify(kv);
  return formBody(Object.entries(kv), f, new Set(f.entities ? Object.keys(kv) : []));
}
