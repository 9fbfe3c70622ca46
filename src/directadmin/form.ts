/** The pieces of a request this client builds by hand: a CMD_API_* form, and a path segment. */

/** Refuses path segments that would change the path they are put in. */
export function segment(what: string, value: string): string {
  if (value === '' || value === '.' || value === '..' || /[\u0000-\u001f]/.test(value)) throw new Error(`invalid ${what}`);
  return encodeURIComponent(value);
}

/** Characters application/x-www-form-urlencoded leaves as they are. */
const FORM_SAFE = /^[A-Za-z0-9*._-]*$/;

/**
 * The form (or query) of a CMD_API_* request, exactly as URLSearchParams would serialise it; the
 * common case (names, plain passwords) is concatenated without building a URLSearchParams.
 */
export function formEncode(params: Record<string, string>, json: boolean): string {
  let out = '';
  let hasJson = false;
  for (const key in params) {
    let value = params[key]!;
    // URLSearchParams.set keeps an existing pair where it is.
    if (json && key === 'json') {
      value = 'yes';
      hasJson = true;
    }
    const pair = FORM_SAFE.test(key) && FORM_SAFE.test(value) ? `${key}=${value}` : new URLSearchParams([[key, value]]).toString();
    out += out === '' ? pair : `&${pair}`;
  }
  if (json && !hasJson) out += out === '' ? 'json=yes' : '&json=yes';
  return out;
}
