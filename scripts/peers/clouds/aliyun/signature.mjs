// Alibaba Cloud request signatures, written from Alibaba's documentation (not from any SDK), used by the loopback fake
// (./fake.mjs) to verify what the real SDK sends and by the tests as an independent client:
//
//  - V3, ACS3-HMAC-SHA256 ("V3版本请求体&签名机制", https://help.aliyun.com/document_detail/2593177.html):
//      CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedRequestPayload
//      StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//      Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
//      Authorization    = ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=h1;h2,Signature=sig
//    The signed headers are host, content-type and every x-acs-* header (lower-cased, sorted, values trimmed).
//    This is what @alicloud/ecs20140526 (7.x, on @alicloud/openapi-core / openapi-client's doRequest) sends by default:
//    callApi() takes doRequest() unless Config.signatureAlgorithm is "v2", and doRequest() signs with
//    `this._signatureAlgorithm || "ACS3-HMAC-SHA256"` (aliyun/darabonba-openapi ts/src/client.ts, callApi/doRequest).
//  - V2 RPC, HMAC-SHA1 ("V2版本RPC风格请求体&签名机制", https://help.aliyun.com/document_detail/25490.htm;
//    English: https://help.aliyun.com/en/sdk/product-overview/rpc-mechanism):
//      StringToSign = METHOD & percentEncode("/") & percentEncode(sorted, percent-encoded k=v joined by &)
//      Signature    = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)); SignatureMethod=HMAC-SHA1, SignatureVersion=1.0
//    Sent by the SDKs when Config.signatureAlgorithm = "v2" (doRPCRequest), and by older clients.
import { createHash, createHmac, randomBytes } from 'node:crypto';

export const ACS3 = 'ACS3-HMAC-SHA256';

/** RFC 3986 percent-encoding as Alibaba specifies it: only A-Z a-z 0-9 - _ . ~ stay as they are; space is %20. */
export function percentEncode(value) {
  return encodeURIComponent(String(value)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** @param {Record<string, string> | Array<[string, string]>} query */
function entries(query) {
  return Array.isArray(query) ? query : Object.entries(query ?? {});
}

/** `k=v&…` sorted by encoded key (then value), both percent-encoded. */
export function canonicalQueryString(query) {
  return entries(query)
    .map(([k, v]) => [percentEncode(k), percentEncode(v ?? '')])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** The headers ACS3 signs: host, content-type, x-acs-*; lower-cased, sorted, values trimmed. */
export function acs3SignableHeaders(headers) {
  /** @type {Map<string, string[]>} */
  const m = new Map();
  for (const [k, v] of Object.entries(headers ?? {})) {
    const key = k.toLowerCase();
    if (key !== 'host' && key !== 'content-type' && !key.startsWith('x-acs-')) continue;
    const vals = Array.isArray(v) ? v : [v];
    m.set(key, [...(m.get(key) ?? []), ...vals.map((x) => String(x ?? '').trim())]);
  }
  return [...m.keys()].sort().map((k) => [k, (m.get(k) ?? []).sort().join(',')]);
}

/**
 * @param {{ method: string, path?: string, query?: Record<string,string> | Array<[string,string]>, headers: Record<string,string>, signedHeaders?: string[], hashedPayload: string }} r
 */
export function acs3CanonicalRequest(r) {
  const all = new Map(acs3SignableHeaders(r.headers));
  const names = r.signedHeaders ?? [...all.keys()];
  const lower = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names
    .map((n) => `${n}:${all.get(n) ?? String(lower[n] ?? '').trim()}\n`)
    .join('');
  const uri = (r.path || '/').split('/').map((s) => percentEncode(decodeURIComponent(s))).join('/');
  return {
    canonicalRequest: [r.method.toUpperCase(), uri, canonicalQueryString(r.query ?? {}), canonicalHeaders, names.join(';'), r.hashedPayload].join('\n'),
    signedHeaders: names.join(';'),
  };
}

export function acs3StringToSign(canonicalRequest) {
  return `${ACS3}\n${sha256Hex(canonicalRequest)}`;
}

export function acs3Signature(secret, stringToSign) {
  return createHmac('sha256', secret).update(stringToSign).digest('hex');
}

/**
 * Signs a request the way Alibaba's V3 document says (the tests' independent client).
 * @param {{ method?: string, host: string, path?: string, query?: Record<string,string>, body?: string | Buffer, contentType?: string,
 *   action: string, version: string, accessKeyId: string, accessKeySecret: string, date?: string, nonce?: string, extraHeaders?: Record<string,string> }} o
 */
export function signAcs3(o) {
  const body = o.body ?? '';
  const headers = {
    host: o.host,
    'x-acs-action': o.action,
    'x-acs-version': o.version,
    'x-acs-date': o.date ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': o.nonce ?? randomBytes(16).toString('hex'),
    'x-acs-content-sha256': sha256Hex(body),
    ...(o.contentType ? { 'content-type': o.contentType } : {}),
    ...o.extraHeaders,
  };
  const { canonicalRequest, signedHeaders } = acs3CanonicalRequest({
    method: o.method ?? 'POST', path: o.path ?? '/', query: o.query ?? {}, headers, hashedPayload: headers['x-acs-content-sha256'],
  });
  const stringToSign = acs3StringToSign(canonicalRequest);
  const signature = acs3Signature(o.accessKeySecret, stringToSign);
  return {
    headers: { ...headers, authorization: `${ACS3} Credential=${o.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}` },
    canonicalRequest, stringToSign, signature,
  };
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`; null when it is not ACS3. */
export function parseAcs3Authorization(value) {
  const m = /^ACS3-HMAC-SHA256\s+(.*)$/.exec(String(value ?? '').trim());
  if (!m) return null;
  /** @type {Record<string, string>} */
  const parts = {};
  for (const p of (m[1] ?? '').split(',')) {
    const i = p.indexOf('=');
    if (i > 0) parts[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  if (!parts.Credential || !parts.SignedHeaders || !parts.Signature) return null;
  return { accessKeyId: parts.Credential, signedHeaders: parts.SignedHeaders.split(';'), signature: parts.Signature };
}

// ---- V2 (RPC) ---------------------------------------------------------------------------------------------------

export function rpcStringToSign(method, params) {
  const q = entries(params).filter(([k]) => k !== 'Signature');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQueryString(q))}`;
}

export function rpcSignature(method, params, secret) {
  return createHmac('sha1', `${secret}&`).update(rpcStringToSign(method, params)).digest('base64');
}

/**
 * The tests' independent RPC client: the common parameters plus Signature.
 * @param {{ method?: string, params: Record<string,string>, action: string, version: string, accessKeyId: string, accessKeySecret: string, timestamp?: string, nonce?: string }} o
 */
export function signRpc(o) {
  const params = {
    Format: 'JSON', Version: o.version, AccessKeyId: o.accessKeyId, SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
    SignatureNonce: o.nonce ?? randomBytes(16).toString('hex'), Timestamp: o.timestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Action: o.action, ...o.params,
  };
  return { ...params, Signature: rpcSignature(o.method ?? 'GET', params, o.accessKeySecret) };
}
