// Tencent Cloud API 3.0 request signature TC3-HMAC-SHA256, written from Tencent's "Signature v3" document
// (https://www.tencentcloud.com/document/api/213/30654, 签名方法 v3: https://cloud.tencent.com/document/api/213/30654),
// not from any SDK; used by the loopback fake (./fake.mjs) to verify what the real SDK sends and by the tests as an
// independent client.
//
//   CanonicalRequest = METHOD \n "/" \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n hex(sha256(payload))
//     CanonicalHeaders: "key:value\n" per signed header, key and value lower-cased and trimmed, sorted by key;
//     content-type and host are always signed; the query string is empty for POST.
//   StringToSign     = "TC3-HMAC-SHA256" \n X-TC-Timestamp \n Date/service/tc3_request \n hex(sha256(CanonicalRequest))
//     Date is the UTC date of the timestamp; service is the product (cvm, vpc, cbs: the endpoint's first label).
//   SecretDate = HMAC_SHA256("TC3" + SecretKey, Date); SecretService = HMAC_SHA256(SecretDate, service);
//   SecretSigning = HMAC_SHA256(SecretService, "tc3_request"); Signature = hex(HMAC_SHA256(SecretSigning, StringToSign))
//   Authorization = TC3-HMAC-SHA256 Credential=SecretId/CredentialScope, SignedHeaders=…, Signature=…
import { createHash, createHmac } from 'node:crypto';

export const TC3 = 'TC3-HMAC-SHA256';

export function sha256Hex(data) {
  return createHash('sha256').update(data).digest('hex');
}
const hmac = (key, msg) => createHmac('sha256', key).update(msg).digest();

/** yyyy-mm-dd (UTC) of a Unix timestamp in seconds. */
export function utcDate(timestamp) {
  return new Date(Number(timestamp) * 1000).toISOString().slice(0, 10);
}

/**
 * @param {{ method: string, query?: string, headers: Record<string,string>, signedHeaders: string[], payload: string | Buffer, path?: string }} r
 *   headers: the request's headers (any case); signedHeaders: lower-case names.
 */
export function tc3CanonicalRequest(r) {
  const lower = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const names = [...r.signedHeaders].map((n) => n.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${(lower[n] ?? '').trim().toLowerCase()}\n`).join('');
  return [r.method.toUpperCase(), r.path ?? '/', r.query ?? '', canonicalHeaders, names.join(';'), sha256Hex(r.payload ?? '')].join('\n');
}

export function tc3StringToSign(timestamp, service, canonicalRequest) {
  return `${TC3}\n${timestamp}\n${utcDate(timestamp)}/${service}/tc3_request\n${sha256Hex(canonicalRequest)}`;
}

export function tc3Signature(secretKey, timestamp, service, stringToSign) {
  const secretSigning = hmac(hmac(hmac(`TC3${secretKey}`, utcDate(timestamp)), service), 'tc3_request');
  return createHmac('sha256', secretSigning).update(stringToSign).digest('hex');
}

/**
 * Signs an API 3.0 call (the tests' independent client): POST with a JSON body by default, or GET with `query`.
 * @param {{ secretId: string, secretKey: string, service: string, host: string, action: string, version: string, region?: string,
 *   timestamp?: number, payload?: string, method?: string, query?: string, contentType?: string, signAction?: boolean, token?: string }} o
 */
export function signTc3(o) {
  const method = (o.method ?? 'POST').toUpperCase();
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const payload = method === 'GET' ? '' : (o.payload ?? '{}');
  const contentType = o.contentType ?? (method === 'GET' ? 'application/x-www-form-urlencoded' : 'application/json; charset=utf-8');
  /** @type {Record<string,string>} */
  const headers = {
    'Content-Type': contentType, Host: o.host, 'X-TC-Action': o.action, 'X-TC-Version': o.version, 'X-TC-Timestamp': String(timestamp),
    ...(o.region ? { 'X-TC-Region': o.region } : {}), ...(o.token ? { 'X-TC-Token': o.token } : {}),
  };
  const signedHeaders = ['content-type', 'host', ...(o.signAction ? ['x-tc-action'] : [])];
  const canonicalRequest = tc3CanonicalRequest({ method, query: method === 'GET' ? (o.query ?? '') : '', headers, signedHeaders, payload });
  const stringToSign = tc3StringToSign(timestamp, o.service, canonicalRequest);
  const signature = tc3Signature(o.secretKey, timestamp, o.service, stringToSign);
  headers.Authorization = `${TC3} Credential=${o.secretId}/${utcDate(timestamp)}/${o.service}/tc3_request, SignedHeaders=${[...signedHeaders].sort().join(';')}, Signature=${signature}`;
  return { headers, payload, canonicalRequest, stringToSign, signature };
}

/** Parses `TC3-HMAC-SHA256 Credential=ID/date/service/tc3_request, SignedHeaders=a;b, Signature=hex`; null when malformed. */
export function parseTc3Authorization(value) {
  const m = /^TC3-HMAC-SHA256\s+Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)\s*$/.exec(String(value ?? '').trim());
  if (!m) return null;
  const scope = (m[1] ?? '').split('/');
  if (scope.length !== 4 || scope[3] !== 'tc3_request') return null;
  return { secretId: scope[0] ?? '', date: scope[1] ?? '', service: scope[2] ?? '', signedHeaders: (m[2] ?? '').split(';'), signature: m[3] ?? '' };
}
