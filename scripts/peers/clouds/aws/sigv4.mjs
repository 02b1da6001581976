// An independent AWS Signature Version 4 implementation (canonical request, string to sign, signing key), written from
// the published specification for the loopback fake to verify what the real SDK sends. It shares no code with the SDK.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper case). */
export function uriEncode(s, encodeSlash = true) {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (c === '/' && !encodeSlash)) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `a=1&b=2` (raw, already percent-encoded or not) → sorted, re-encoded canonical query string. */
export function canonicalQuery(rawQuery) {
  if (!rawQuery) return '';
  const pairs = rawQuery
    .split('&')
    .filter((p) => p.length)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      const dec = (x) => decodeURIComponent(x.replace(/\+/g, '%20'));
      return [uriEncode(dec(k)), uriEncode(dec(v))];
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Normalises a path: removes `.`/`..` segments and duplicate slashes, then encodes each segment. */
export function canonicalPath(path) {
  const segs = [];
  for (const s of decodeURIComponent(path || '/').split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segs.pop();
    else segs.push(s);
  }
  const trailing = path.length > 1 && path.endsWith('/') ? '/' : '';
  return '/' + segs.map((s) => uriEncode(s)).join('/') + (segs.length ? trailing : '');
}

/**
 * @param {{ method: string, path: string, query: string, headers: Record<string, string | string[]>, signedHeaders: string[], payloadHash: string }} r
 */
export function canonicalRequest(r) {
  const lower = {};
  for (const [k, v] of Object.entries(r.headers)) lower[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
  const names = [...r.signedHeaders].map((h) => h.toLowerCase()).sort();
  const headerLines = names.map((n) => `${n}:${(lower[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  return [r.method.toUpperCase(), canonicalPath(r.path), canonicalQuery(r.query), headerLines, names.join(';'), r.payloadHash].join('\n');
}

export function stringToSign(amzDate, scope, creq) {
  return ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(creq)].join('\n');
}

export function signingKey(secret, date, region, service) {
  return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
}

/** Signs a request the way a client would (used by the unit test on the published vector). */
export function sign({ method, url, headers = {}, body = '', accessKeyId, secretAccessKey, region, service, amzDate }) {
  const u = new URL(url);
  const h = { host: u.host, 'x-amz-date': amzDate, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) };
  const signed = Object.keys(h).sort();
  const creq = canonicalRequest({ method, path: u.pathname, query: u.search.slice(1), headers: h, signedHeaders: signed, payloadHash: sha256Hex(body) });
  const scope = `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`;
  const sts = stringToSign(amzDate, scope, creq);
  const sig = createHmac('sha256', signingKey(secretAccessKey, amzDate.slice(0, 8), region, service)).update(sts).digest('hex');
  return { canonicalRequest: creq, stringToSign: sts, signature: sig, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${sig}` };
}

/**
 * Verifies a received request. Answers `{ ok: true, accessKeyId, region, service }` or `{ ok: false, code, message }` with
 * AWS's own error codes (AuthFailure for an unknown key, SignatureDoesNotMatch for a bad signature).
 * @param {{ method: string, path: string, query: string, headers: Record<string, string | string[] | undefined>, body: Buffer | string }} req
 * @param {(accessKeyId: string) => string | null} secretFor
 * @param {{ now?: Date, maxSkewMs?: number }} [o]
 */
export function verify(req, secretFor, o = {}) {
  const auth = String(req.headers['authorization'] ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
  const [, accessKeyId, date, region, service, signedList, signature] = m;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) return { ok: false, code: 'IncompleteSignature', message: 'X-Amz-Date is missing or does not match the credential scope' };
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host')) return { ok: false, code: 'IncompleteSignature', message: 'the host header must be signed' };
  const secret = secretFor(accessKeyId);
  if (secret === null) return { ok: false, code: 'AuthFailure', message: 'AWS was not able to validate the provided access credentials' };
  const when = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  const now = (o.now ?? new Date()).getTime();
  if (Math.abs(now - when) > (o.maxSkewMs ?? 15 * 60_000)) return { ok: false, code: 'RequestExpired', message: `Request has expired (X-Amz-Date ${amzDate})` };
  const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
  const claimed = req.headers['x-amz-content-sha256'];
  const payloadHash = sha256Hex(body);
  if (claimed && claimed !== 'UNSIGNED-PAYLOAD' && claimed !== payloadHash) return { ok: false, code: 'SignatureDoesNotMatch', message: 'x-amz-content-sha256 does not match the body' };
  const creq = canonicalRequest({ method: req.method, path: req.path, query: req.query, headers: /** @type {Record<string,string>} */ (req.headers), signedHeaders, payloadHash });
  const scope = `${date}/${region}/${service}/aws4_request`;
  const expected = createHmac('sha256', signingKey(secret, date, region, service)).update(stringToSign(amzDate, scope, creq)).digest();
  const got = Buffer.from(signature, 'hex');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
  }
  return { ok: true, accessKeyId, region, service };
}
