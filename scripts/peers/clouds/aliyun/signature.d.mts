type Query = Record<string, string> | Array<[string, string]>;
export const ACS3: 'ACS3-HMAC-SHA256';
export function percentEncode(value: string | number): string;
export function sha256Hex(data: string | Buffer): string;
export function canonicalQueryString(query: Query): string;
export function acs3SignableHeaders(headers: Record<string, string | string[]>): Array<[string, string]>;
export function acs3CanonicalRequest(r: {
  method: string;
  path?: string;
  query?: Query;
  headers: Record<string, string>;
  /** The names listed in the Authorization's SignedHeaders (verification); default: host, content-type, x-acs-*. */
  signedHeaders?: string[];
  hashedPayload: string;
}): { canonicalRequest: string; signedHeaders: string };
export function acs3StringToSign(canonicalRequest: string): string;
export function acs3Signature(secret: string, stringToSign: string): string;
export function signAcs3(o: {
  method?: string;
  host: string;
  path?: string;
  query?: Record<string, string>;
  body?: string | Buffer;
  contentType?: string;
  action: string;
  version: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** yyyy-MM-ddTHH:mm:ssZ; default now. */
  date?: string;
  nonce?: string;
  extraHeaders?: Record<string, string>;
}): { headers: Record<string, string>; canonicalRequest: string; stringToSign: string; signature: string };
export function parseAcs3Authorization(value: string | undefined): { accessKeyId: string; signedHeaders: string[]; signature: string } | null;
export function rpcStringToSign(method: string, params: Query): string;
export function rpcSignature(method: string, params: Query, secret: string): string;
/** The common parameters (Format JSON, SignatureMethod HMAC-SHA1, …), the operation's parameters and Signature. */
export function signRpc(o: {
  method?: string;
  params: Record<string, string>;
  action: string;
  version: string;
  accessKeyId: string;
  accessKeySecret: string;
  timestamp?: string;
  nonce?: string;
}): Record<string, string>;
