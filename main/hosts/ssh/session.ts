/**
 * One SSH connection to a host, on ssh2's Client: host-key pinning by OpenSSH fingerprint, password / key / ssh-agent
 * auth, an optional jump host, keepalive, and the channels Skydeck needs (exec, upload, Unix-socket and TCP forwarding,
 * PTY shells). Every failure is an ApiError whose details.reason is an SshFailure (see ../types.ts).
 *
 * Measured against OpenSSH 9.2 on loopback (2 cores, Node 22, ssh2 1.17 without its native binding, medians of 5 after a
 * warm-up, same run):
 *  - TCP_NODELAY is what matters most: without it every auth step and channel request waits out Nagle against the
 *    server's delayed ACK (~45 ms a round trip): connect+auth+exec `uname` took 200–250 ms, with it 27–35 ms.
 *  - Cipher: ssh2 runs AES-GCM through node:crypto (OpenSSL, AES-NI); uploads at aes128-gcm ≈ aes256-gcm ≈ 590 MiB/s,
 *    aes128-ctr 450, chacha20-poly1305 415. The list below pins GCM first.
 *  - Upload of 256 MiB: exec channel `cat > file.part` 750 MiB/s (≈ 2.0× `scp -c aes128-gcm`, 2.4× scp's default
 *    chacha20; 1.3–1.6× counting a fresh connection), SFTP fastPut (64 × 32 KiB in flight) 440–460 MiB/s (1.1–1.4×).
 *    So uploads stream through exec by default, and fall back to SFTP where the account cannot run commands.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, type Duplex } from 'node:stream';
import * as ssh2Module from 'ssh2';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { ApiError } from '@shared/errors';
import type { Logger } from '../../log/logger';
import type {
  ExecOptions,
  ExecResult,
  HostKeyInfo,
  SshConnectOptions,
  SshEndpoint,
  SshFailure,
  SshSession,
  SshTarget,
  UploadOptions,
} from '../types';

/**
 * ssh2 is CommonJS, and Node's ESM loader detects only some of its exports by name (Client, but not `utils`), so the
 * built app (ESM, ssh2 external) must take module.exports from the default export. Vitest and bundlers give either shape.
 */
const ssh2 = ((ssh2Module as unknown as { default?: typeof ssh2Module }).default ?? ssh2Module) as typeof ssh2Module;

export const DEFAULT_READY_TIMEOUT_MS = 20_000;
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 15_000;
export const KEEPALIVE_COUNT_MAX = 3;
/** Cap on what exec collects from stdout + stderr. */
export const EXEC_MAX_OUTPUT_BYTES = 16 << 20;

/**
 * Cipher preference. ssh2 defaults to the same head, but its default list depends on CPU probing (cpu-features) and
 * on whether its native binding loaded; pinning it keeps uploads on the fastest cipher everywhere. CTR and ChaCha20
 * stay as fallbacks for servers without GCM.
 */
export const SSH_CIPHERS = [
  'aes128-gcm@openssh.com',
  'aes256-gcm@openssh.com',
  'aes128-ctr',
  'aes192-ctr',
  'aes256-ctr',
  'chacha20-poly1305@openssh.com',
] as const;

export interface SshConnectOptionsEx extends SshConnectOptions {
  logger?: Logger;
  /** Cipher preference (default SSH_CIPHERS). */
  ciphers?: readonly string[];
  /**
   * An already open stream to the target (e.g. a TCP forward on another host's session: a guest reached through its
   * host). Used instead of a TCP connection; not with `jump`.
   */
  sock?: Duplex;
}

export interface ExecOptionsEx extends ExecOptions {
  /** Cap on collected output (stdout + stderr); beyond it the command is killed and exec fails. Default 16 MiB. */
  maxOutputBytes?: number;
}

export type UploadMethod = 'exec' | 'sftp';

export interface UploadOptionsEx extends UploadOptions {
  /** `exec` streams through `cat` (fastest, needs a POSIX shell); `sftp` uses SFTP fastPut. Default exec. */
  method?: UploadMethod;
}

// ---------------------------------------------------------------------------------------------------------------
// helpers

/** Quotes a string for a POSIX shell. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** OpenSSH's fingerprint of a public key blob (`SHA256:` + unpadded base64) and the key's algorithm name. */
export function hostKeyInfo(blob: Buffer): HostKeyInfo {
  let algorithm = 'unknown';
  if (blob.length >= 4) {
    const n = blob.readUInt32BE(0);
    if (n > 0 && n < 64 && blob.length >= 4 + n) algorithm = blob.subarray(4, 4 + n).toString('latin1');
  }
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { algorithm, fingerprint };
}

function where(e: SshEndpoint | { address: string; port: number }): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function fail(code: ConstructorParameters<typeof ApiError>[0], reason: SshFailure | string, message: string, extra: Record<string, unknown> = {}): ApiError {
  return new ApiError(code, message, { reason, ...extra });
}

function methodLabel(e: SshEndpoint): string {
  return e.auth.method === 'password' ? 'password' : e.auth.method === 'key' ? 'private key' : 'ssh-agent';
}

/** Checks an endpoint's credentials locally, before anything is sent: a key must parse, an agent socket must exist. */
export async function checkAuth(e: SshEndpoint, role = ''): Promise<void> {
  const who = `${role}${e.username}@${where(e)}`;
  if (e.auth.method === 'key') {
    const parsed = ssh2.utils.parseKey(e.auth.privateKey, e.auth.passphrase);
    if (parsed instanceof Error) {
      if (/passphrase/i.test(parsed.message)) {
        const message = e.auth.passphrase ? `the private key for ${who} cannot be decrypted: wrong passphrase` : `the private key for ${who} is encrypted: a passphrase is required`;
        throw fail('validation', 'key_passphrase', message);
      }
      throw fail('validation', 'bad_key', `the private key for ${who} cannot be read: ${parsed.message}`);
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key.getPrivatePEM() === null) throw fail('validation', 'bad_key', `the key given for ${who} is not a private key`);
  } else if (e.auth.method === 'agent') {
    const sock = e.auth.socket;
    if (!sock) throw fail('unreachable', 'agent_unavailable', `no ssh-agent is available for ${who} (SSH_AUTH_SOCK is not set)`);
    if (process.platform !== 'win32' || !/^\\\\[.?]\\pipe\\/.test(sock)) {
      const st = await stat(sock).catch(() => null);
      if (!st || (process.platform !== 'win32' && !st.isSocket())) throw fail('unreachable', 'agent_unavailable', `the ssh-agent socket ${sock} does not exist (is ssh-agent running?)`);
    }
  }
}

type SshError = Error & { code?: string; level?: string; reason?: number | string; description?: string };

/** Maps an ssh2 / socket error during connect to an ApiError with an SshFailure reason. */
export function mapConnectError(err: SshError, e: SshEndpoint | { address: string; port: number; username?: string }, opts: { role?: string; readyTimeoutMs?: number } = {}): ApiError {
  const role = opts.role ?? '';
  const at = `${role}${where(e)}`;
  const base = { address: e.address, port: e.port };
  const code = err.code ?? '';
  const msg = err.message ?? String(err);
  if (code === 'ECONNREFUSED') return fail('unreachable', 'refused', `connection to ${at} refused (is sshd running on port ${e.port}?)`, base);
  if (err.level === 'client-timeout' || code === 'ETIMEDOUT' || /timed out/i.test(msg)) {
    const secs = opts.readyTimeoutMs ? ` within ${Math.round(opts.readyTimeoutMs / 100) / 10} s` : '';
    return fail('timeout', 'timeout', `no SSH answer from ${at}${secs}`, base);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_NODATA') return fail('unreachable', 'dns', `cannot resolve the name ${e.address}${code === 'EAI_AGAIN' ? ' (DNS did not answer)' : ''}`, base);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN' || code === 'EADDRNOTAVAIL') return fail('unreachable', 'net', `no route to ${at} (${code})`, base);
  if (err.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    const user = 'username' in e && e.username ? e.username : '?';
    const how = 'auth' in e ? methodLabel(e as SshEndpoint) : 'credentials';
    return fail('forbidden', 'auth_failed', `authentication failed for ${user}@${role}${where(e)} (${how})`, base);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /ended|closed|reset/i.test(msg)) return fail('unreachable', 'closed', `${at} closed the connection during the SSH handshake${msg ? ` (${msg})` : ''}`, base);
  if (err.level === 'handshake' || err.level === 'protocol' || /handshake|algorithm|protocol/i.test(msg)) return fail('unreachable', 'protocol', `SSH handshake with ${at} failed: ${msg}`, base);
  return fail('unreachable', 'closed', `SSH connection to ${at} failed: ${msg}`, base);
}

function channelOpenError(err: SshError, what: string, host: string): ApiError {
  if (/Not connected|No response/i.test(err.message)) return fail('unreachable', 'closed', `the SSH connection to ${host} is closed`);
  if (err.reason === 1) return fail('forbidden', 'forward_refused', `sshd on ${host} refuses ${what} (administratively prohibited)`);
  if (err.reason === 2) return fail('unreachable', 'connect_failed', `${what} on ${host} failed: ${err.description || err.message.replace(/^\(SSH\) Channel open failure: /, '') || 'open failed'}`);
  if (err.reason === 4) return fail('unreachable', 'resource_shortage', `${host} has no resources for another channel (${what})`);
  return fail('unreachable', 'closed', `${what} on ${host} failed: ${err.message}`);
}

function cancelled(signal?: AbortSignal): ApiError {
  const r: unknown = signal?.reason;
  if (ApiError.is(r)) return r;
  return new ApiError('cancelled', 'cancelled');
}

// ---------------------------------------------------------------------------------------------------------------
// connect

interface Connected {
  client: Client;
  hostKey: HostKeyInfo;
}

function baseConfig(e: { address: string; port: number }, opts: SshConnectOptionsEx): ConnectConfig {
  return {
    host: e.address,
    port: e.port,
    readyTimeout: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    keepaliveInterval: opts.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    algorithms: { cipher: [...(opts.ciphers ?? SSH_CIPHERS)] as NonNullable<ConnectConfig['algorithms']>['cipher'] },
  };
}

/** Opens and authenticates one Client (over `sock` when given, e.g. a jump host's forwarded channel). */
function connectClient(e: SshEndpoint, sock: Duplex | undefined, opts: SshConnectOptionsEx, role: string): Promise<Connected> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(cancelled(opts.signal));
    const client = new ssh2.Client();
    let seen: HostKeyInfo | null = null;
    let keyError: ApiError | null = null;
    let done = false;
    const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const finish = (err: ApiError | null) => {
      if (done) return;
      done = true;
      opts.signal?.removeEventListener('abort', onAbort);
      client.removeListener('ready', onReady);
      if (err) {
        client.removeAllListeners('keyboard-interactive');
        // Keep one error listener: ssh2 may still emit while tearing down.
        client.on('error', () => {});
        client.destroy();
        reject(err);
      } else {
        client.removeListener('error', onError);
        client.removeListener('close', onCloseEarly);
        resolve({ client, hostKey: seen! });
      }
    };
    const onAbort = () => finish(cancelled(opts.signal));
    const onReady = () => finish(null);
    const onError = (err: SshError) => finish(keyError ?? mapConnectError(err, e, { role, readyTimeoutMs }));
    const onCloseEarly = () => finish(keyError ?? fail('unreachable', 'closed', `${role}${where(e)} closed the connection during the SSH handshake`, { address: e.address, port: e.port }));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('close', onCloseEarly);

    const cfg: ConnectConfig = {
      ...baseConfig(e, opts),
      username: e.username,
      ...(sock ? { sock: sock as ConnectConfig['sock'] } : {}),
      hostVerifier: (key: Buffer) => {
        seen = hostKeyInfo(key);
        if (e.hostKeyFingerprint === null) {
          keyError = fail('conflict', 'host_key_unknown', `the host key of ${role}${where(e)} is not trusted yet (${seen.algorithm} ${seen.fingerprint})`, {
            fingerprint: seen.fingerprint,
            algorithm: seen.algorithm,
            address: e.address,
            port: e.port,
          });
          return false;
        }
        if (seen.fingerprint !== e.hostKeyFingerprint) {
          keyError = fail(
            'conflict',
            'host_key_changed',
            `host key changed for ${role}${where(e)}: expected ${e.hostKeyFingerprint}, got ${seen.algorithm} ${seen.fingerprint} — possible man-in-the-middle attack; accept the new key only if the host was reinstalled or its key rotated`,
            { fingerprint: seen.fingerprint, expected: e.hostKeyFingerprint, algorithm: seen.algorithm, address: e.address, port: e.port },
          );
          return false;
        }
        return true;
      },
    };
    const auth = e.auth;
    if (auth.method === 'password') {
      cfg.password = auth.password;
      cfg.tryKeyboard = true;
      cfg.authHandler = ['password', 'keyboard-interactive'];
      client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, answer) => answer(prompts.map(() => auth.password)));
    } else if (auth.method === 'key') {
      cfg.privateKey = auth.privateKey;
      if (auth.passphrase) cfg.passphrase = auth.passphrase;
      cfg.authHandler = ['publickey'];
    } else {
      cfg.agent = auth.socket;
      cfg.authHandler = ['agent'];
    }
    try {
      client.connect(cfg);
      // Without TCP_NODELAY every request/response pair (auth steps, channel opens, agent RPCs) waits out Nagle against
      // the peer's delayed ACK: ~45 ms per round trip, 250 ms for connect+exec instead of 40 ms on loopback.
      client.setNoDelay(true);
    } catch (err) {
      finish(fail('validation', 'bad_key', `cannot use the credentials for ${role}${e.username}@${where(e)}: ${(err as Error).message}`));
    }
  });
}

/**
 * A direct-tcpip channel from `via` to address:port (used for jump hosts). sshd answers only once its own TCP connect
 * succeeded or failed, which for a silent address takes minutes: the wait is bounded by the ready timeout.
 */
function forwardOut(via: Client, address: string, port: number, viaName: string, opts: SshConnectOptionsEx): Promise<ClientChannel> {
  const timeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const p = new Promise<ClientChannel>((resolve, reject) => {
    try {
      via.forwardOut('127.0.0.1', 0, address, port, (err, ch) => {
        if (!err) return resolve(ch);
        const se = err as SshError;
        const desc = `${se.description ?? ''} ${se.message}`;
        if (se.reason === 2 && /refused/i.test(desc)) return reject(fail('unreachable', 'refused', `connection to ${address}:${port} refused (through jump host ${viaName})`, { address, port }));
        if (se.reason === 2 && /timed out/i.test(desc)) return reject(fail('timeout', 'timeout', `${address}:${port} did not answer (through jump host ${viaName})`, { address, port }));
        if (se.reason === 2 && /resolve|name/i.test(desc)) return reject(fail('unreachable', 'dns', `jump host ${viaName} cannot resolve ${address}`, { address, port }));
        if (se.reason === 2) return reject(fail('unreachable', 'net', `jump host ${viaName} cannot reach ${address}:${port}: ${se.description || se.message}`, { address, port }));
        reject(channelOpenError(se, `forwarding to ${address}:${port}`, `jump host ${viaName}`));
      });
    } catch (err) {
      reject(channelOpenError(err as SshError, `forwarding to ${address}:${port}`, `jump host ${viaName}`));
    }
  });
  return guard(p, timeoutMs, opts.signal, (ch) => ch.close()).catch((e: unknown) => {
    if (ApiError.is(e) && e.code === 'timeout') {
      throw fail('timeout', 'timeout', `no answer from ${address}:${port} within ${Math.round(timeoutMs / 100) / 10} s (through jump host ${viaName})`, { address, port });
    }
    throw e;
  });
}

/** Connects and authenticates (through the jump host when the target has one). Both host keys are checked. */
export async function connectSsh(target: SshTarget, opts: SshConnectOptionsEx = {}): Promise<Ssh2Session> {
  const started = performance.now();
  if (target.jump) await checkAuth(target.jump, 'jump host ');
  await checkAuth(target);
  let jump: Connected | undefined;
  let sock: Duplex | undefined = opts.sock;
  if (target.jump) {
    jump = await connectClient(target.jump, undefined, opts, 'jump host ');
    try {
      sock = await forwardOut(jump.client, target.address, target.port, where(target.jump), opts);
    } catch (e) {
      jump.client.end();
      throw e;
    }
  }
  let c: Connected;
  try {
    c = await connectClient(target, sock, opts, '');
  } catch (e) {
    jump?.client.end();
    throw e;
  }
  opts.logger?.debug('ssh connected', {
    address: target.address,
    port: target.port,
    username: target.username,
    method: target.auth.method,
    jump: target.jump ? where(target.jump) : undefined,
    ms: Math.round(performance.now() - started),
  });
  return new Ssh2Session(target, c.client, c.hostKey, jump?.client, opts.logger);
}

/**
 * Reads a host's key without authenticating: the handshake stops in hostVerifier, before any credential is sent. With
 * `jump`, the jump host is connected (and authenticated: forwarding needs it) and its own key must already be trusted.
 */
export async function probeHostKey(
  e: { address: string; port: number; jump?: SshEndpoint },
  opts: SshConnectOptionsEx = {},
): Promise<HostKeyInfo> {
  let jump: Connected | undefined;
  let sock: Duplex | undefined = opts.sock;
  if (e.jump) {
    await checkAuth(e.jump, 'jump host ');
    jump = await connectClient(e.jump, undefined, opts, 'jump host ');
    try {
      sock = await forwardOut(jump.client, e.address, e.port, where(e.jump), opts);
    } catch (err) {
      jump.client.end();
      throw err;
    }
  }
  try {
    return await new Promise<HostKeyInfo>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(cancelled(opts.signal));
      const client = new ssh2.Client();
      let done = false;
      const finish = (err: ApiError | null, info?: HostKeyInfo) => {
        if (done) return;
        done = true;
        opts.signal?.removeEventListener('abort', onAbort);
        client.removeAllListeners('ready');
        client.on('error', () => {});
        client.destroy();
        if (err) reject(err);
        else resolve(info!);
      };
      const onAbort = () => finish(cancelled(opts.signal));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      client.on('error', (err: SshError) => finish(mapConnectError(err, e, { readyTimeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS })));
      client.on('close', () => finish(fail('unreachable', 'closed', `${where(e)} closed the connection before showing its host key`, { address: e.address, port: e.port })));
      client.on('ready', () => finish(fail('unreachable', 'protocol', `${where(e)} accepted the connection without authentication`)));
      client.connect({
        ...baseConfig(e, opts),
        username: 'skydeck-probe',
        ...(sock ? { sock: sock as ConnectConfig['sock'] } : {}),
        // No credential is configured at all: even if verification passed, nothing secret could be sent.
        authHandler: ['none'],
        hostVerifier: (key: Buffer) => {
          finish(null, hostKeyInfo(key));
          return false;
        },
      });
      client.setNoDelay(true);
    });
  } finally {
    jump?.client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the session

export class Ssh2Session implements SshSession {
  private closedFlag = false;
  private notified = false;
  private destroyTimer: NodeJS.Timeout | undefined;
  private closeReason: string | null = null;
  private lastError: SshError | null = null;
  private readonly closeListeners = new Set<(reason: string) => void>();
  private readonly where: string;

  constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    readonly hostKey: HostKeyInfo,
    private readonly jump: Client | undefined,
    private readonly log?: Logger,
  ) {
    this.where = where(target);
    client.on('error', (err: SshError) => {
      this.lastError = err;
      this.log?.debug('ssh error', { address: target.address, error: err.message, level: err.level });
    });
    client.on('close', () => this.markClosed());
    if (jump) {
      jump.on('error', (err: SshError) => {
        this.lastError ??= err;
      });
      jump.on('close', () => {
        this.lastError ??= Object.assign(new Error(`jump host ${where(target.jump!)} closed the connection`), { code: 'JUMP' });
        client.destroy();
      });
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private markClosed(): void {
    if (this.notified) return;
    this.notified = true;
    this.closedFlag = true;
    clearTimeout(this.destroyTimer);
    const err = this.lastError;
    let reason: string;
    if (this.closeReason) reason = this.closeReason;
    else if (!err) reason = `${this.where} closed the connection`;
    else if (err.level === 'client-timeout' && /keepalive/i.test(err.message)) reason = `${this.where} stopped answering (keepalive timeout)`;
    else if (err.code === 'ECONNRESET') reason = `connection to ${this.where} reset`;
    else if (err.code === 'JUMP') reason = err.message;
    else reason = `connection to ${this.where} lost: ${err.message}`;
    this.closeReason = reason;
    this.jump?.end();
    const cbs = [...this.closeListeners];
    this.closeListeners.clear();
    for (const cb of cbs) {
      try {
        cb(reason);
      } catch (e) {
        this.log?.warn('ssh onClose listener failed', { error: (e as Error).message });
      }
    }
  }

  onClose(cb: (reason: string) => void): () => void {
    if (this.notified) {
      const r = this.closeReason ?? 'closed';
      queueMicrotask(() => cb(r));
      return () => {};
    }
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  /** Ends the connection (and the jump host's). onClose listeners hear 'closed by Skydeck' once the socket is gone. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.closeReason = 'closed by Skydeck';
    this.client.end();
    this.jump?.end();
    // A wedged transport must not keep the session (and its listeners) alive.
    this.destroyTimer = setTimeout(() => {
      this.client.destroy();
      this.jump?.destroy();
    }, 2000);
    this.destroyTimer.unref();
  }

  private lostError(what: string): ApiError {
    return fail('unreachable', 'closed', `the SSH connection to ${this.where} was lost during ${what}`);
  }

  private notConnected(): ApiError {
    return fail('unreachable', 'closed', `the SSH connection to ${this.where} is closed`);
  }

  /** Opens an exec channel (no PTY). */
  openExec(command: string, pty?: { rows: number; cols: number; term?: string }): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.closedFlag) return reject(this.notConnected());
      const cb = (err: Error | undefined, ch: ClientChannel) => (err ? reject(channelOpenError(err as SshError, 'exec', this.where)) : resolve(ch));
      try {
        if (pty) this.client.exec(command, { pty: { rows: pty.rows, cols: pty.cols, term: pty.term ?? 'xterm-256color' } }, cb);
        else this.client.exec(command, cb);
      } catch (err) {
        reject(channelOpenError(err as SshError, 'exec', this.where));
      }
    });
  }

  /**
   * Runs a command and collects its output. stdin (if any) is written and closed; without, stdin is closed at once.
   * On timeout or abort the remote process gets SIGKILL (where sshd honours signal requests) and the channel closes.
   */
  async exec(command: string, opts: ExecOptionsEx = {}): Promise<ExecResult> {
    if (opts.signal?.aborted) throw cancelled(opts.signal);
    const openedAt = Date.now();
    const ch = await guard(this.openExec(command), opts.timeoutMs, opts.signal, (c) => c.close());
    if (opts.timeoutMs !== undefined) opts = { ...opts, timeoutMs: Math.max(1, opts.timeoutMs - (Date.now() - openedAt)) };
    const cap = opts.maxOutputBytes ?? EXEC_MAX_OUTPUT_BYTES;
    return new Promise<ExecResult>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let code: number | null = null;
      let sig: string | null = null;
      let failed: ApiError | null = null;
      let timer: NodeJS.Timeout | undefined;
      const stop = (e: ApiError) => {
        if (failed) return;
        failed = e;
        sendSignal(ch, 'KILL');
        ch.close();
        // A channel whose close never gets confirmed must not hang the caller.
        finish();
      };
      const onAbort = () => stop(cancelled(opts.signal));
      const collect = (into: Buffer[]) => (d: Buffer) => {
        if (failed) return;
        bytes += d.length;
        if (bytes > cap) return stop(new ApiError('payload_too_large', `the output of the command exceeded ${Math.round(cap / 1048576)} MiB`, { reason: 'output_too_large', limit: cap }));
        into.push(d);
      };
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (failed) return reject(failed);
        // sshd always reports exit-status or exit-signal: a channel that closed without either lost its connection.
        if (code === null && sig === null) return reject(this.lostError('the command'));
        resolve({ code, signal: sig, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      };
      ch.on('data', collect(out));
      ch.stderr.on('data', collect(err));
      // The exit status comes with 'close' (ssh2 passes it like a child process does): an 'exit' event may fire before
      // this listener exists when the whole answer arrives in the packet batch that confirmed the channel.
      ch.on('close', (c?: number | null, s?: string) => {
        code = typeof c === 'number' ? c : null;
        sig = typeof s === 'string' ? s : null;
        finish();
      });
      ch.on('error', (e: Error) => stop(fail('unreachable', 'closed', `exec on ${this.where} failed: ${e.message}`)));
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        const ms = opts.timeoutMs;
        timer = setTimeout(() => stop(new ApiError('timeout', `the command did not finish within ${ms / 1000} s`, { reason: 'timeout' })), ms);
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.stdin !== undefined) ch.end(opts.stdin);
      else ch.end();
    });
  }

  /** A raw exec channel as a byte stream (stdin/stdout), for the agent's `connect` fallback. stderr stays reachable. */
  async execStream(command: string): Promise<ClientChannel> {
    return this.openExec(command);
  }

  /**
   * Uploads to `<remotePath>.part` and renames it into place, so a reader never sees a partial file. The default method
   * streams through `cat` on an exec channel with back-pressure; the shell checks the byte count before the rename, so a
   * cut-off stream never becomes the final file. Abort kills the transfer and removes the part file.
   */
  async upload(source: string | Buffer, remotePath: string, opts: UploadOptionsEx = {}): Promise<number> {
    if (opts.signal?.aborted) throw cancelled(opts.signal);
    const total = Buffer.isBuffer(source) ? source.length : (await stat(source)).size;
    const started = performance.now();
    let method: UploadMethod = opts.method ?? 'exec';
    let sent: number;
    try {
      sent = method === 'sftp' ? await this.uploadSftp(source, remotePath, total, opts) : await this.uploadExec(source, remotePath, total, opts);
    } catch (e) {
      // No POSIX sh/cat on the other side (exit 127): SFTP needs neither.
      if (opts.method || !ApiError.is(e) || e.details?.exitCode !== 127) throw e;
      method = 'sftp';
      sent = await this.uploadSftp(source, remotePath, total, opts);
    }
    this.log?.debug('ssh upload', { address: this.target.address, path: remotePath, bytes: total, method, ms: Math.round(performance.now() - started) });
    return sent;
  }

  private progress(total: number, onProgress?: (sent: number, total: number) => void) {
    let sent = 0;
    let last = 0;
    let lastAt = 0;
    return {
      add(n: number) {
        sent += n;
        if (!onProgress) return;
        const now = Date.now();
        if (sent === total || sent - last >= 1 << 20 || now - lastAt >= 200) {
          last = sent;
          lastAt = now;
          onProgress(sent, total);
        }
      },
      get sent() {
        return sent;
      },
    };
  }

  private async removePart(part: string): Promise<void> {
    try {
      await this.exec(`rm -f ${shq(part)}`, { timeoutMs: 10_000 });
    } catch {
      /* best effort: the session may be gone */
    }
  }

  private async uploadExec(source: string | Buffer, remotePath: string, total: number, opts: UploadOptions): Promise<number> {
    const part = `${remotePath}.part`;
    const [p, f] = [shq(part), shq(remotePath)];
    const chmod = opts.mode !== undefined ? `chmod ${(opts.mode & 0o7777).toString(8)} ${p} && ` : '';
    const script =
      `${opts.mode !== undefined ? 'umask 077; ' : ''}cat > ${p} && s=$(wc -c < ${p}) && [ "$s" -eq ${total} ] && ${chmod}mv -f ${p} ${f}` +
      ` || { rm -f ${p}; echo "upload to ${remotePath.replace(/[^\w./ -]/g, '?')} failed (\${s:-0} of ${total} bytes written)" >&2; exit 1; }`;
    // Through `sh -c`: the login shell may not be POSIX (fish, csh); the quoted script has no backslashes.
    const ch = await this.openExec(`sh -c ${shq(script)}`);
    const prog = this.progress(total, opts.onProgress);
    const input = Buffer.isBuffer(source) ? Readable.from(chunksOf(source, 256 << 10)) : createReadStream(source, { highWaterMark: 256 << 10 });
    return new Promise<number>((resolve, reject) => {
      const stderr: Buffer[] = [];
      let code: number | null = null;
      let failed: ApiError | null = null;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        opts.signal?.removeEventListener('abort', onAbort);
        if (failed) {
          const e = failed;
          void this.removePart(part).then(() => reject(e));
          return;
        }
        if (code === null) return reject(this.lostError(`the upload to ${remotePath}`));
        if (code !== 0) {
          const why = Buffer.concat(stderr).toString('utf8').trim();
          return reject(new ApiError('conflict', why || `upload to ${remotePath} failed (exit ${code})`, { reason: 'upload_failed', path: remotePath, exitCode: code }));
        }
        opts.onProgress?.(total, total);
        resolve(total);
      };
      const stop = (e: ApiError) => {
        if (failed) return;
        failed = e;
        input.destroy();
        sendSignal(ch, 'KILL');
        ch.close();
        finish();
      };
      const onAbort = () => stop(cancelled(opts.signal));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      input.on('data', (d: Buffer | string) => prog.add(d.length));
      input.on('error', (e: Error) => stop(new ApiError('not_found', `cannot read ${String(source)}: ${e.message}`, { reason: 'local_read' })));
      ch.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 64) stderr.push(d);
      });
      ch.on('data', () => {});
      ch.on('error', (e: Error) => stop(fail('unreachable', 'closed', `upload to ${this.where} failed: ${e.message}`)));
      ch.on('close', (c?: number | null) => {
        code = typeof c === 'number' ? c : null;
        finish();
      });
      input.pipe(ch);
    });
  }

  private openSftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      if (this.closedFlag) return reject(this.notConnected());
      try {
        this.client.sftp((err, sftp) => (err ? reject(channelOpenError(err as SshError, 'sftp', this.where)) : resolve(sftp)));
      } catch (err) {
        reject(channelOpenError(err as SshError, 'sftp', this.where));
      }
    });
  }

  private async uploadSftp(source: string | Buffer, remotePath: string, total: number, opts: UploadOptions): Promise<number> {
    const part = `${remotePath}.part`;
    const sftp = await this.openSftp();
    const prog = this.progress(total, opts.onProgress);
    let aborted = false;
    let abortNow: (e: ApiError) => void = () => {};
    const abortP = new Promise<never>((_, reject) => (abortNow = reject));
    abortP.catch(() => {});
    // An aborted fastPut does not always call back once its channel is gone: the abort wins the race instead.
    const call = <T>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void) =>
      Promise.race([new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T)))), abortP]);
    const onAbort = () => {
      aborted = true;
      abortNow(cancelled(opts.signal));
      sftp.end();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // With a mode, the part file starts private and gets the mode before the rename; without, the server's default.
      const create = opts.mode !== undefined ? { mode: 0o600 } : {};
      if (Buffer.isBuffer(source)) {
        await call<void>((cb) => sftp.writeFile(part, source, create, (e) => cb(e)));
        prog.add(total);
      } else {
        // 255 KiB writes (ssh2 raises its limit to that with OpenSSH servers, and splits them for others): bench agent-push
        // measured 215–252 → 300–370 MiB/s and less CPU per MiB than 64 × 32 KiB.
        await call<void>((cb) => sftp.fastPut(source, part, { concurrency: 16, chunkSize: 261_120, ...create, step: (_t, chunk) => prog.add(chunk) }, (e) => cb(e)));
      }
      if (opts.mode !== undefined) await call<void>((cb) => sftp.chmod(part, opts.mode!, (e) => cb(e)));
      const ext = (sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
      if (ext['posix-rename@openssh.com']) await call<void>((cb) => sftp.ext_openssh_rename(part, remotePath, (e) => cb(e)));
      else {
        const r = await this.exec(`mv -f ${shq(part)} ${shq(remotePath)}`);
        if (r.code !== 0) throw new Error(r.stderr.trim() || `mv exited ${r.code}`);
      }
      opts.onProgress?.(total, total);
      return total;
    } catch (e) {
      await this.removePart(part);
      if (aborted) throw cancelled(opts.signal);
      if (ApiError.is(e)) throw e;
      throw new ApiError('conflict', `upload to ${remotePath} failed: ${(e as Error).message}`, { reason: 'upload_failed', path: remotePath });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      sftp.end();
    }
  }

  /**
   * A stream to a Unix socket on the host. OpenSSH answers "open failed" both when nothing listens there and when
   * AllowStreamLocalForwarding forbids it, so a failure is told apart with one `[ -S path ]`: a socket that exists but
   * cannot be opened means forwarding is refused (details.reason forward_refused), else socket_unavailable.
   */
  async openUnixSocket(path: string): Promise<Duplex> {
    if (this.closedFlag) throw this.notConnected();
    const what = `connecting to the Unix socket ${path}`;
    const err = await new Promise<SshError | Duplex>((resolve) => {
      try {
        this.client.openssh_forwardOutStreamLocal(path, (e, ch) => resolve(e ? (e as SshError) : ch));
      } catch (e) {
        resolve(e as SshError);
      }
    });
    if (!(err instanceof Error)) return err;
    const e = channelOpenError(err, what, this.where);
    if (e.details?.reason === 'forward_refused') throw fail('forbidden', 'forward_refused', `sshd on ${this.where} refuses Unix socket forwarding (AllowStreamLocalForwarding)`, { path });
    if (e.details?.reason !== 'connect_failed') throw e;
    const probe = await this.exec(`[ -S ${shq(path)} ]`, { timeoutMs: 10_000 }).catch(() => null);
    if (probe?.code === 0) throw fail('forbidden', 'forward_refused', `sshd on ${this.where} refuses Unix socket forwarding to ${path} (AllowStreamLocalForwarding, or no access to the socket)`, { path });
    throw fail('unreachable', 'socket_unavailable', `nothing listens on the Unix socket ${path} on ${this.where}`, { path });
  }

  forwardTcp(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (this.closedFlag) return reject(this.notConnected());
      const what = `forwarding to ${host}:${port}`;
      try {
        this.client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
          if (!err) return resolve(ch);
          const se = err as SshError;
          if (se.reason === 2 && /refused/i.test(`${se.description ?? ''} ${se.message}`)) {
            return reject(fail('unreachable', 'refused', `${host}:${port} refused the connection (as seen from ${this.where})`, { host, port }));
          }
          reject(channelOpenError(se, what, this.where));
        });
      } catch (err) {
        reject(channelOpenError(err as SshError, what, this.where));
      }
    });
  }

  async shell(opts: { cols: number; rows: number; term?: string; command?: string }): Promise<Duplex & { setWindow(rows: number, cols: number): void }> {
    if (this.closedFlag) throw this.notConnected();
    const pty = { rows: opts.rows, cols: opts.cols, term: opts.term ?? 'xterm-256color' };
    const ch: ClientChannel = opts.command
      ? await this.openExec(opts.command, pty)
      : await new Promise<ClientChannel>((resolve, reject) => {
          try {
            this.client.shell(pty, (err, c) => (err ? reject(channelOpenError(err as SshError, 'shell', this.where)) : resolve(c)));
          } catch (err) {
            reject(channelOpenError(err as SshError, 'shell', this.where));
          }
        });
    const setWindow = ch.setWindow.bind(ch);
    return Object.assign(ch, { setWindow: (rows: number, cols: number) => setWindow(rows, cols, 0, 0) });
  }
}

/**
 * Waits for `p` at most `timeoutMs` and until `signal` aborts; a value that arrives after giving up goes to `late`.
 */
function guard<T>(p: Promise<T>, timeoutMs: number | undefined, signal: AbortSignal | undefined, late: (v: T) => void): Promise<T> {
  if (!timeoutMs && !signal) return p;
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
      return true;
    };
    const onAbort = () => finish(() => reject(cancelled(signal)));
    const timer = timeoutMs ? setTimeout(() => finish(() => reject(new ApiError('timeout', `no channel within ${timeoutMs / 1000} s`, { reason: 'timeout' }))), timeoutMs) : undefined;
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        if (!finish(() => resolve(v))) late(v);
      },
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/**
 * Sends a signal request (OpenSSH ≥ 7.9 honours it for exec and shell sessions). ssh2's Channel.signal() drops the
 * request once our side has sent EOF (stdin closed), which is exactly when a command runs too long, so this goes to the
 * protocol directly while the channel is open or half-closed.
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const c = ch as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, name: string): void } } };
  const out = c.outgoing;
  if (!out || (out.state !== 'open' && out.state !== 'eof')) return;
  try {
    c._client?._protocol?.signal(out.id, name);
  } catch {
    /* the connection is gone */
  }
}

function* chunksOf(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, Math.min(buf.length, i + size));
}
