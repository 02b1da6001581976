export const TC3: 'TC3-HMAC-SHA256';
export function sha256Hex(data: string | Buffer): string;
export function utcDate(timestamp: number | string): string;
export function tc3CanonicalRequest(r: {
  method: string;
  /** The URL's query string as sent (GET); '' for POST. */
  query?: string;
  headers: Record<string, string>;
  signedHeaders: string[];
  payload: string | Buffer;
  path?: string;
}): string;
export function tc3StringToSign(timestamp: number | string, service: string, canonicalRequest: string): string;
export function tc3Signature(secretKey: string, timestamp: number | string, service: string, stringToSign: string): string;
export function signTc3(o: {
  secretId: string;
  secretKey: string;
  service: string;
  /** The Host as signed (no port: real endpoints have none, and the Node SDK signs URL.hostname). */
  host: string;
  action: string;
  version: string;
  region?: string;
  timestamp?: number;
  payload?: string;
  method?: string;
  query?: string;
  contentType?: string;
  /** Also sign x-tc-action (as the current documentation's example does). */
  signAction?: boolean;
  token?: string;
}): { headers: Record<string, string>; payload: string; canonicalRequest: string; stringToSign: string; signature: string };
export function parseTc3Authorization(value: string | undefined): {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
} | null;
