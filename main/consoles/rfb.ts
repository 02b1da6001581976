import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { ApiError } from '@shared/errors';
import { vncAuthResponse } from './des';

/**
 * The RFB security handshake (RFC 6143 §7.1–7.2), done by the proxy when Skydeck holds the guest's VNC password: the
 * proxy authenticates to the VNC server, then offers the browser the security type None. Everything after the security
 * handshake (ClientInit onward) is passed through untouched.
 */

const SEC_NONE = 1;
const SEC_VNC = 2;

/** Reads exact byte counts from a stream of chunks. */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private failed: Error | null = null;

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.serve();
  }

  fail(e: Error): void {
    this.failed ??= e;
    if (this.want) {
      const w = this.want;
      this.want = null;
      w.reject(e);
    }
  }

  read(n: number): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.want = { n, resolve, reject };
      this.serve();
    });
  }

  async u8(): Promise<number> {
    return (await this.read(1))[0]!;
  }

  async u32(): Promise<number> {
    return (await this.read(4)).readUInt32BE(0);
  }

  /** What was received beyond what was read. */
  rest(): Buffer {
    const r = this.buf;
    this.buf = Buffer.alloc(0);
    return r;
  }

  private serve(): void {
    if (!this.want || this.buf.length < this.want.n) return;
    const w = this.want;
    this.want = null;
    const out = this.buf.subarray(0, w.n);
    this.buf = this.buf.subarray(w.n);
    w.resolve(Buffer.from(out));
  }
}

function parseVersion(b: Buffer, who: string): number {
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(b.toString('latin1'));
  if (!m) throw new ApiError('unreachable', `${who} does not speak RFB (got ${JSON.stringify(b.toString('latin1').slice(0, 12))})`, { reason: 'protocol' });
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 3) throw new ApiError('unreachable', `${who} speaks RFB ${major}.${minor}, not 3.x`, { reason: 'protocol' });
  // 3.889 is Apple's; treat anything above 8 as 8, anything between 3 and 7 that is not 7 as 3.
  return minor >= 8 ? 8 : minor === 7 ? 7 : 3;
}

const versionBytes = (minor: number) => Buffer.from(`RFB 003.00${minor}\n`, 'latin1');

async function reasonString(r: ByteReader): Promise<string> {
  const n = await r.u32();
  return (await r.read(Math.min(n, 4096))).toString('utf8');
}

/** Authenticates to a VNC server on `remote` with `password`. Resolves with the bytes the server sent beyond the handshake. */
export async function authenticateToServer(remote: Duplex, password: string, timeoutMs = 15_000): Promise<Buffer> {
  const r = new ByteReader();
  const onData = (c: Buffer) => r.push(c);
  const onEnd = () => r.fail(new ApiError('unreachable', 'the VNC server closed the connection during its handshake', { reason: 'closed' }));
  const onError = (e: Error) => r.fail(new ApiError('unreachable', `VNC connection failed: ${e.message}`, { reason: 'closed' }));
  remote.on('data', onData);
  remote.on('end', onEnd);
  remote.on('error', onError);
  const timer = setTimeout(() => r.fail(new ApiError('timeout', `the VNC server did not finish its handshake in ${timeoutMs / 1000} s`)), timeoutMs);
  try {
    const minor = parseVersion(await r.read(12), 'the VNC server');
    remote.write(versionBytes(minor));
    let type: number;
    if (minor === 3) {
      type = await r.u32();
      if (type === 0) throw new ApiError('unreachable', `the VNC server refused the connection: ${await reasonString(r)}`, { reason: 'refused' });
    } else {
      const n = await r.u8();
      if (n === 0) throw new ApiError('unreachable', `the VNC server refused the connection: ${await reasonString(r)}`, { reason: 'refused' });
      const types = [...(await r.read(n))];
      type = types.includes(SEC_VNC) ? SEC_VNC : types.includes(SEC_NONE) ? SEC_NONE : -1;
      if (type < 0) throw new ApiError('not_supported', `the VNC server asks for security types ${types.join(', ')}; Skydeck's proxy speaks None (1) and VNC password (2)`, { reason: 'security_type', types });
      remote.write(Buffer.from([type]));
    }
    if (type === SEC_VNC) {
      const challenge = await r.read(16);
      remote.write(vncAuthResponse(password, challenge));
    }
    if (type === SEC_VNC || minor === 8) {
      const result = await r.u32();
      if (result !== 0) {
        const why = minor === 8 ? await reasonString(r).catch(() => '') : '';
        throw new ApiError('forbidden', `the VNC server refused the stored password${why ? `: ${why}` : ''}`, { reason: 'vnc_auth' });
      }
    }
    return r.rest();
  } finally {
    clearTimeout(timer);
    remote.off('data', onData);
    remote.off('end', onEnd);
    remote.off('error', onError);
  }
}

/**
 * Plays the VNC server's part of the security handshake towards the browser, offering None. Resolves with the bytes
 * the browser sent beyond it (normally nothing yet: the browser waits for the result before its ClientInit).
 */
export async function acceptClientWithoutAuth(ws: WebSocket, timeoutMs = 15_000): Promise<Buffer> {
  const r = new ByteReader();
  const onMessage = (data: RawData) => r.push(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
  const onClose = () => r.fail(new ApiError('cancelled', 'the browser closed the console during the handshake'));
  ws.on('message', onMessage);
  ws.on('close', onClose);
  const timer = setTimeout(() => r.fail(new ApiError('timeout', `the browser did not finish the RFB handshake in ${timeoutMs / 1000} s`)), timeoutMs);
  try {
    ws.send(versionBytes(8));
    const minor = parseVersion(await r.read(12), 'the browser');
    if (minor === 3) {
      ws.send(Buffer.from([0, 0, 0, SEC_NONE]));
    } else {
      ws.send(Buffer.from([1, SEC_NONE]));
      const choice = await r.u8();
      if (choice !== SEC_NONE) throw new ApiError('validation', `the browser chose security type ${choice}; only None (1) is offered`);
      if (minor === 8) ws.send(Buffer.from([0, 0, 0, 0]));
    }
    return r.rest();
  } finally {
    clearTimeout(timer);
    ws.off('message', onMessage);
    ws.off('close', onClose);
  }
}
