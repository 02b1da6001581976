export function uriEncode(s: string, encodeSlash?: boolean): string;
export function canonicalQuery(rawQuery: string): string;
export function canonicalPath(path: string): string;
export function canonicalRequest(r: { method: string; path: string; query: string; headers: Record<string, string | string[]>; signedHeaders: string[]; payloadHash: string }): string;
export function stringToSign(amzDate: string, scope: string, creq: string): string;
export function signingKey(secret: string, date: string, region: string, service: string): Buffer;
export function sign(o: { method: string; url: string; headers?: Record<string, string>; body?: string; accessKeyId: string; secretAccessKey: string; region: string; service: string; amzDate: string }): { canonicalRequest: string; stringToSign: string; signature: string; authorization: string };
export function verify(
  req: { method: string; path: string; query: string; headers: Record<string, string | string[] | undefined>; body: Buffer | string },
  secretFor: (accessKeyId: string) => string | null,
  o?: { now?: Date; maxSkewMs?: number },
): { ok: true; accessKeyId: string; region: string; service: string } | { ok: false; code: string; message: string };
