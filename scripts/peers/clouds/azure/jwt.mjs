// Compact JWS (RS256) signing and verification written here on node:crypto, independent of any Azure or MSAL code:
// the fake signs the access tokens its token endpoint issues and verifies every bearer token ARM receives.
import { createHash, createSign, createVerify } from 'node:crypto';

/** @param {Buffer | string} b */
export const b64url = (b) => Buffer.from(b).toString('base64url');

/**
 * The key id Entra ID puts in `kid` and `x5t`: here the base64url SHA-1 of the public key (SPKI DER).
 * @param {import('node:crypto').KeyObject} publicKey
 */
export function keyId(publicKey) {
  return b64url(createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
}

/**
 * @param {Record<string, unknown>} payload
 * @param {import('node:crypto').KeyObject} privateKey RSA
 * @param {string} kid
 */
export function signJwt(payload, privateKey, kid) {
  const header = { typ: 'JWT', alg: 'RS256', x5t: kid, kid };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = createSign('RSA-SHA256').update(input).sign(privateKey);
  return `${input}.${b64url(sig)}`;
}

/**
 * Parses and checks the signature of a compact JWS. Claims are the caller's business.
 * @param {string} token
 * @param {Map<string, import('node:crypto').KeyObject>} keys kid → RSA public key
 * @returns {{ ok: true, header: Record<string, any>, payload: Record<string, any> } | { ok: false, reason: string }}
 */
export function verifyJwt(token, keys) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'not a compact JWS' };
  const [h = '', p = '', s = ''] = parts;
  /** @type {Record<string, any>} */ let header;
  /** @type {Record<string, any>} */ let payload;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'undecodable header or payload' };
  }
  if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') return { ok: false, reason: 'not JSON objects' };
  if (header.alg !== 'RS256') return { ok: false, reason: `alg ${String(header.alg)} not accepted` };
  const key = keys.get(String(header.kid ?? header.x5t ?? ''));
  if (!key) return { ok: false, reason: 'unknown signing key' };
  const good = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, Buffer.from(s, 'base64url'));
  return good ? { ok: true, header, payload } : { ok: false, reason: 'bad signature' };
}

/**
 * The JWKS entry of an RSA public key, as login.microsoftonline.com/{tenant}/discovery/v2.0/keys lists them.
 * @param {import('node:crypto').KeyObject} publicKey
 * @param {string} kid
 * @param {string} issuer
 */
export function jwk(publicKey, kid, issuer) {
  const { n, e } = /** @type {{ n: string, e: string }} */ (publicKey.export({ format: 'jwk' }));
  return { kty: 'RSA', use: 'sig', kid, x5t: kid, n, e, issuer };
}
