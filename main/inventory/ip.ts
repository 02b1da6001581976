import { ApiError } from '@shared/errors';

/** IPv4 as 32-bit integers, so ranges, overlaps and "lowest free address" are plain integer comparisons in SQL. */
export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { first: number; last: number; prefix: number } {
  const [addr, bits] = cidr.split('/');
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const first = (ipToInt(addr!) & mask) >>> 0;
  if (first !== ipToInt(addr!)) {
    throw new ApiError('validation', `cidr: ${cidr} has host bits set; did you mean ${intToIp(first)}/${prefix}?`, { issues: [{ path: 'cidr', message: `host bits set; the network is ${intToIp(first)}/${prefix}`, code: 'invalid_cidr' }] });
  }
  return { first, last: (first | (~mask >>> 0)) >>> 0, prefix };
}
