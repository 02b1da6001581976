import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import type { SshTarget } from '../types';
import { connectSsh, hostKeyInfo, probeHostKey, shq, type Ssh2Session } from './session';
import { fingerprintOf, freePort, startTestSshd, type TestSshd } from './testing/sshd';
import { createLogger } from '../../log/logger';

let sshd: TestSshd;
let tmp: string;
const sessions: Ssh2Session[] = [];

beforeAll(async () => {
  sshd = await startTestSshd();
  tmp = mkdtempSync(join(tmpdir(), 'skydeck-ssh-test-'));
  chmodSync(tmp, 0o777);
});
afterAll(async () => {
  for (const s of sessions) s.close();
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function target(over: Partial<SshTarget> = {}): SshTarget {
  return {
    address: sshd.address,
    port: sshd.port,
    username: sshd.users.test.username,
    auth: { method: 'key', privateKey: sshd.users.test.privateKey },
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    ...over,
  };
}

async function open(over: Partial<SshTarget> = {}): Promise<Ssh2Session> {
  const s = await connectSsh(target(over));
  sessions.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (!ApiError.is(e)) throw e;
    return e;
  }
  throw new Error('expected a failure');
}

describe('host keys', () => {
  it('computes the OpenSSH fingerprint and reads the key without sending credentials', async () => {
    const info = await probeHostKey({ address: sshd.address, port: sshd.port });
    const expected = await fingerprintOf(join(sshd.dir, 'host_ed25519.pub'));
    expect(info).toEqual({ algorithm: 'ssh-ed25519', fingerprint: expected.fingerprint });
    // The blob's fingerprint by hand: the same algorithm ssh-keygen -l uses.
    const blob = Buffer.from(readFileSync(join(sshd.dir, 'host_ed25519.pub'), 'utf8').split(' ')[1]!, 'base64');
    expect(hostKeyInfo(blob).fingerprint).toBe(expected.fingerprint);
    // The probe never reached authentication: sshd saw no user at all.
    await new Promise((r) => setTimeout(r, 100));
    expect(sshd.log()).not.toContain('skydeck-probe');
  });

  it('refuses an unknown host key with its fingerprint', async () => {
    const e = await failure(connectSsh(target({ hostKeyFingerprint: null })));
    expect(e.code).toBe('conflict');
    expect(e.details).toMatchObject({ reason: 'host_key_unknown', fingerprint: sshd.hostKeyFingerprint, algorithm: 'ssh-ed25519' });
  });

  it('refuses a changed host key as a possible man-in-the-middle', async () => {
    const e = await failure(connectSsh(target({ hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })));
    expect(e.code).toBe('conflict');
    expect(e.message).toMatch(/host key changed.*man-in-the-middle/);
    expect(e.details).toMatchObject({ reason: 'host_key_changed', fingerprint: sshd.hostKeyFingerprint, expected: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  });
});

describe('authentication', () => {
  it('logs in with a password', async () => {
    const s = await open({ auth: { method: 'password', password: sshd.users.test.password! } });
    expect(s.hostKey.fingerprint).toBe(sshd.hostKeyFingerprint);
    const r = await s.exec('uname -s; id -un');
    expect(r).toMatchObject({ code: 0, stdout: `Linux\n${sshd.users.test.username}\n` });
  });

  it('logs in with a key, and with an encrypted key and its passphrase', async () => {
    const a = await open();
    expect((await a.exec('echo ok')).stdout).toBe('ok\n');
    const k = sshd.users.test.encryptedKey;
    const b = await open({ auth: { method: 'key', privateKey: k.privateKey, passphrase: k.passphrase } });
    expect((await b.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('rejects a wrong password as auth_failed, naming user and method but never the secret', async () => {
    const e = await failure(connectSsh(target({ auth: { method: 'password', password: 'not-the-password-42' } })));
    expect(e.code).toBe('forbidden');
    expect(e.details?.reason).toBe('auth_failed');
    expect(e.message).toContain(sshd.users.test.username);
    expect(e.message).toContain('password');
    expect(JSON.stringify(e.toBody())).not.toContain('not-the-password-42');
  });

  it('rejects a key that is not authorized', async () => {
    const e = await failure(connectSsh(target({ auth: { method: 'key', privateKey: sshd.users.test.otherKey.privateKey } })));
    expect(e.details).toMatchObject({ reason: 'auth_failed' });
    expect(e.message).toMatch(/private key/);
  });

  it('refuses unreadable keys and missing or wrong passphrases before connecting', async () => {
    const before = sshd.log().length;
    const bad = await failure(connectSsh(target({ auth: { method: 'key', privateKey: 'this is not a key' } })));
    expect(bad.code).toBe('validation');
    expect(bad.details?.reason).toBe('bad_key');
    const pub = await failure(connectSsh(target({ auth: { method: 'key', privateKey: sshd.keys.plain.publicKey } })));
    expect(pub.details?.reason).toBe('bad_key');
    const k = sshd.users.test.encryptedKey;
    const none = await failure(connectSsh(target({ auth: { method: 'key', privateKey: k.privateKey } })));
    expect(none.details?.reason).toBe('key_passphrase');
    expect(none.message).toMatch(/passphrase is required/);
    const wrong = await failure(connectSsh(target({ auth: { method: 'key', privateKey: k.privateKey, passphrase: 'wrong passphrase' } })));
    expect(wrong.details?.reason).toBe('key_passphrase');
    expect(wrong.message).toMatch(/wrong passphrase/);
    expect(wrong.message).not.toContain('wrong passphrase '); // the passphrase itself is not quoted
    // Nothing reached the server.
    expect(sshd.log().slice(before)).not.toMatch(/Connection from/);
  });

  it('logs in through a real ssh-agent, and says so when the agent socket is missing', async () => {
    const sock = join(tmp, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise<void>((resolve, reject) => {
        const add = spawn('ssh-add', [sshd.keys.plain.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
        add.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh-add exited ${code}`))));
      });
      const s = await open({ auth: { method: 'agent', socket: sock } });
      expect((await s.exec('echo via-agent')).stdout).toBe('via-agent\n');
    } finally {
      agent.kill();
    }
    const e = await failure(connectSsh(target({ auth: { method: 'agent', socket: join(tmp, 'no-such-agent.sock') } })));
    expect(e.details?.reason).toBe('agent_unavailable');
  });
});

describe('network failures', () => {
  // This sandbox answers every outside TCP connection (a proxy), so "nobody answers" is made locally: a server that
  // accepts and never speaks (what a filtered port behind a stateful middlebox looks like to ssh2's readyTimeout).
  let blackHole: Server;
  let blackHolePort: number;
  let notSsh: Server;
  let notSshPort: number;
  beforeAll(async () => {
    blackHole = createServer(() => {});
    notSsh = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'));
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => notSsh.listen(0, '127.0.0.1', r));
    blackHolePort = (blackHole.address() as { port: number }).port;
    notSshPort = (notSsh.address() as { port: number }).port;
  });
  afterAll(() => {
    blackHole?.close();
    notSsh?.close();
  });

  it('maps a refused port, a timeout, a bad name and a server that does not speak SSH', async () => {
    const port = await freePort();
    const refused = await failure(connectSsh(target({ port })));
    expect(refused.code).toBe('unreachable');
    expect(refused.details?.reason).toBe('refused');

    const t0 = Date.now();
    const timeout = await failure(connectSsh(target({ port: blackHolePort }), { readyTimeoutMs: 600 }));
    expect(timeout.code).toBe('timeout');
    expect(timeout.details?.reason).toBe('timeout');
    expect(timeout.message).toMatch(/within 0.6 s/);
    expect(Date.now() - t0).toBeLessThan(3000);

    const dns = await failure(connectSsh(target({ address: 'no-such-host.invalid' })));
    expect(dns.code).toBe('unreachable');
    expect(dns.details?.reason).toBe('dns');

    const http = await failure(connectSsh(target({ port: notSshPort })));
    expect(http.code).toBe('unreachable');
    expect(['protocol', 'closed']).toContain(http.details?.reason);
  });

  it('can be cancelled while connecting', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = connectSsh(target({ port: blackHolePort }), { readyTimeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const e = await failure(p);
    expect(e.code).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('exec', () => {
  it('passes stdin, exit codes and stderr', async () => {
    const s = await open();
    const r = await s.exec('tr a-z A-Z; echo oops >&2; exit 3', { stdin: 'héllo wörld ✓\n' });
    expect(r).toEqual({ code: 3, signal: null, stdout: 'HéLLO WöRLD ✓\n', stderr: 'oops\n' });
    // No stdin given: stdin is closed, so `cat` ends at once.
    expect((await s.exec('cat; echo done')).stdout).toBe('done\n');
  });

  it('times out, aborts (killing the remote command) and caps the output', async () => {
    const s = await open();
    // A sleep with a unique duration, to find it in the process list afterwards.
    const marker = `sleep 30.${process.pid}${Date.now() % 1000}`;
    const t0 = Date.now();
    const e = await failure(s.exec(marker, { timeoutMs: 300 }));
    expect(e.code).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
    const ac = new AbortController();
    const p = s.exec('sleep 30', { signal: ac.signal });
    setTimeout(() => ac.abort(), 150);
    expect((await failure(p)).code).toBe('cancelled');
    const big = await failure(s.exec('head -c 300000 /dev/zero', { maxOutputBytes: 100_000 }));
    expect(big.code).toBe('payload_too_large');
    // The session is still usable, and the timed-out command is gone.
    for (let i = 0; i < 40; i++) {
      if ((await s.exec(`pgrep -fx '${marker}' || true`)).stdout.trim() === '') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await s.exec(`pgrep -fx '${marker}' || true`)).stdout.trim()).toBe('');
  });
});

describe('upload', () => {
  it('uploads a buffer and a file to .part then renames, with mode and progress', async () => {
    const s = await open();
    const dir = join(tmp, `up-${Date.now()}`);
    await s.exec(`mkdir -p ${shq(dir)}`);
    const buf = Buffer.from('hello upload\n');
    expect(await s.upload(buf, `${dir}/a.txt`, { mode: 0o640 })).toBe(buf.length);
    expect(readFileSync(`${dir}/a.txt`, 'utf8')).toBe('hello upload\n');
    expect(statSync(`${dir}/a.txt`).mode & 0o777).toBe(0o640);
    expect(existsSync(`${dir}/a.txt.part`)).toBe(false);

    const local = join(tmp, 'five-mib.bin');
    const data = Buffer.alloc(5 << 20);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    writeFileSync(local, data);
    for (const method of ['exec', 'sftp'] as const) {
      const seen: number[] = [];
      const n = await s.upload(local, `${dir}/b-${method}.bin`, { mode: 0o755, method, onProgress: (sent, total) => seen.push(sent / total) });
      expect(n).toBe(data.length);
      expect(readFileSync(`${dir}/b-${method}.bin`).equals(data)).toBe(true);
      expect(statSync(`${dir}/b-${method}.bin`).mode & 0o777).toBe(0o755);
      expect(seen.length).toBeGreaterThan(2);
      expect(seen.at(-1)).toBe(1);
      expect([...seen].sort((x, y) => x - y)).toEqual(seen);
      expect(existsSync(`${dir}/b-${method}.bin.part`)).toBe(false);
    }
    // A path with a quote and spaces.
    await s.upload(Buffer.from('q'), `${dir}/it's here.txt`);
    expect(readFileSync(`${dir}/it's here.txt`, 'utf8')).toBe('q');
  });

  it('leaves neither the final file nor the part file when aborted', async () => {
    const s = await open();
    const local = join(tmp, 'big.bin');
    writeFileSync(local, Buffer.alloc(64 << 20, 7));
    for (const method of ['exec', 'sftp'] as const) {
      const dest = join(tmp, `aborted-${method}.bin`);
      const ac = new AbortController();
      const p = s.upload(local, dest, {
        method,
        signal: ac.signal,
        onProgress: (sent) => {
          if (sent > 4 << 20) ac.abort();
        },
      });
      const e = await failure(p);
      expect(e.code).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(`${dest}.part`)).toBe(false);
    }
    expect((await s.exec('echo still-alive')).stdout).toBe('still-alive\n');
  });

  it('falls back to SFTP where the account cannot run commands (exit 127), and SFTP alone works there', async () => {
    // Every exec answers 127 (as on a host without sh); only the sftp subsystem runs.
    const wrapper = join(tmp, 'no-shell.sh');
    writeFileSync(wrapper, '#!/bin/sh\ncase "$SSH_ORIGINAL_COMMAND" in\n  sftp|internal-sftp|*sftp-server) exec /usr/lib/openssh/sftp-server ;;\n  *) echo "sh: not found" >&2; exit 127 ;;\nesac\n', { mode: 0o755 });
    const limited = await startTestSshd({ matchConfig: [`Match User ${sshd.users.test.username}`, `  ForceCommand ${wrapper}`] });
    try {
      const s = await connectSsh({ ...target(), port: limited.port, hostKeyFingerprint: limited.hostKeyFingerprint, auth: { method: 'key', privateKey: limited.users.test.privateKey } });
      sessions.push(s);
      expect((await s.exec('echo hi')).code).toBe(127);
      const dest = join(tmp, `sftp-only-${Date.now()}.bin`);
      const data = Buffer.alloc(3 << 20, 9);
      const seen: number[] = [];
      expect(await s.upload(data, dest, { onProgress: (n) => seen.push(n) })).toBe(data.length);
      expect(readFileSync(dest).equals(data)).toBe(true);
      expect(seen.at(-1)).toBe(data.length);
      const e = await failure(s.upload(data, `${dest}-2`, { method: 'exec' }));
      expect(e.details).toMatchObject({ reason: 'upload_failed', exitCode: 127 });
    } finally {
      await limited.stop();
    }
  });

  it('reports a failed upload (no such directory) without leaving files', async () => {
    const s = await open();
    const e = await failure(s.upload(Buffer.from('x'), join(tmp, 'missing-dir', 'f.txt')));
    expect(e.code).toBe('conflict');
    expect(e.details?.reason).toBe('upload_failed');
    expect(e.message).toMatch(/No such file or directory|failed/);
  });
});

describe('forwarding', () => {
  let unixServer: Server;
  let tcpServer: Server;
  let sockPath: string;
  let tcpPort: number;
  const echo = (s: import('node:net').Socket) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
  beforeAll(async () => {
    sockPath = join(tmp, 'echo.sock');
    unixServer = createServer(echo);
    await new Promise<void>((r) => unixServer.listen(sockPath, r));
    chmodSync(sockPath, 0o777);
    tcpServer = createServer(echo);
    await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', r));
    tcpPort = (tcpServer.address() as { port: number }).port;
  });
  afterAll(() => {
    unixServer?.close();
    tcpServer?.close();
  });

  const roundTrip = (d: import('node:stream').Duplex, text: string) =>
    new Promise<string>((resolve) => {
      d.once('data', (b: Buffer) => resolve(b.toString()));
      d.write(text);
    });

  it('opens a Unix socket on the host, and tells a missing socket from a refused forward', async () => {
    const s = await open();
    const d = await s.openUnixSocket(sockPath);
    expect(await roundTrip(d, 'ping')).toBe('echo:ping');
    d.end();
    const missing = await failure(s.openUnixSocket(join(tmp, 'nobody.sock')));
    expect(missing.details?.reason).toBe('socket_unavailable');

    const strict = await startTestSshd({ extraConfig: ['AllowStreamLocalForwarding no'] });
    try {
      const s2 = await connectSsh({ ...target(), port: strict.port, hostKeyFingerprint: strict.hostKeyFingerprint, auth: { method: 'key', privateKey: strict.users.test.privateKey } });
      const refused = await failure(s2.openUnixSocket(sockPath));
      expect(refused.code).toBe('forbidden');
      expect(refused.details?.reason).toBe('forward_refused');
      s2.close();
    } finally {
      await strict.stop();
    }
  });

  it('forwards TCP to a port as seen from the host', async () => {
    const s = await open();
    const d = await s.forwardTcp('127.0.0.1', tcpPort);
    expect(await roundTrip(d, 'vnc?')).toBe('echo:vnc?');
    d.end();
    const e = await failure(s.forwardTcp('127.0.0.1', await freePort()));
    expect(e.details?.reason).toBe('refused');
  });

  it('opens a PTY shell with the requested size', async () => {
    const s = await open();
    const pty = await s.shell({ cols: 100, rows: 30, command: 'stty size; sleep 0.3; stty size' });
    let out = '';
    pty.on('data', (b: Buffer) => {
      out += b.toString();
    });
    await new Promise((r) => setTimeout(r, 100));
    pty.setWindow(40, 120);
    await new Promise<void>((r) => pty.on('close', () => r()));
    expect(out).toMatch(/30 100\r?\n/);
    expect(out).toMatch(/40 120\r?\n/);
  });
});

describe('session lifecycle', () => {
  it('tells onClose listeners why, and refuses channels after close', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', sink: (l) => lines.push(l) });
    const s = await connectSsh(target({ auth: { method: 'password', password: sshd.users.test.password! } }), { logger });
    const reasons: string[] = [];
    s.onClose((r) => reasons.push(r));
    s.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(s.closed).toBe(true);
    expect(reasons).toEqual(['closed by Skydeck']);
    expect((await failure(s.exec('true'))).details?.reason).toBe('closed');
    expect(lines.join('\n')).not.toContain(sshd.users.test.password!);
  });

  it('notices when the server side goes away', async () => {
    const other = await startTestSshd();
    try {
      const s = await connectSsh({ ...target(), port: other.port, hostKeyFingerprint: other.hostKeyFingerprint, auth: { method: 'key', privateKey: other.users.test.privateKey } });
      const closed = new Promise<string>((r) => s.onClose(r));
      const running = s.exec('sleep 10').catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      await other.killSshd();
      const e = (await running) as ApiError;
      expect(ApiError.is(e)).toBe(true);
      expect(e.code).toBe('unreachable');
      expect(e.details?.reason).toBe('closed');
      expect(await closed).toMatch(/127\.0\.0\.1/);
    } finally {
      await other.stop();
    }
  });
});
