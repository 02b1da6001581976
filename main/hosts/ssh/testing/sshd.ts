/**
 * A throwaway OpenSSH server on 127.0.0.1 for the tests of main/hosts/ssh (and a single-host stand-in where the
 * network-namespace hosts of scripts/peers/ssh-hosts.mjs are not needed). Needs root (it runs /usr/sbin/sshd and creates
 * the local user `skydeck-test`, whose login shell is /bin/sh so that exec is fast).
 *
 * Keys and authorized_keys live in a temp dir of their own (AuthorizedKeysFile DIR/authorized_keys/%u, StrictModes no),
 * so nothing of the machine's own SSH setup is touched. Root logs in with keys only; its password is never changed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TEST_USER = 'skydeck-test';
/** The test user's password: a throwaway local account, reachable only through the test sshd on 127.0.0.1. */
export const TEST_PASSWORD = 'skydeck-test-pw-1'; // the same as scripts/peers/ssh-hosts.mjs sets

export interface TestKey {
  privateKey: string;
  privateKeyPath: string;
  publicKey: string;
}

export interface TestUser {
  username: string;
  /** Only the test user has one; root authenticates with keys. */
  password: string | null;
  privateKey: string;
  privateKeyPath: string;
  encryptedKey: { privateKey: string; privateKeyPath: string; passphrase: string };
  /** A valid key that is not authorized. */
  otherKey: { privateKey: string; privateKeyPath: string };
  home: string;
  uid: number;
}

export interface TestSshd {
  address: string;
  port: number;
  hostKeyFingerprint: string;
  hostKeyAlgorithm: string;
  dir: string;
  users: { test: TestUser; root: TestUser };
  /** Key files shared by every user: ed25519 plain, ed25519 encrypted, other. */
  keys: { plain: TestKey; encrypted: TestKey & { passphrase: string }; other: TestKey };
  log(): string;
  killSshd(): Promise<void>;
  startSshd(): Promise<void>;
  /** Replaces the host key (takes effect on the next start) and returns the new fingerprint. */
  rotateHostKey(): Promise<string>;
  /** Runs a shell command on this machine (the "host"), as root. */
  exec(command: string): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

let userReady: Promise<{ home: string; uid: number }> | null = null;

/** Creates the test user once (idempotent, tolerant of parallel test files racing on /etc/passwd) and sets its password. */
export function ensureTestUser(): Promise<{ home: string; uid: number }> {
  userReady ??= (async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await run('id', ['-u', TEST_USER]);
        break;
      } catch {
        try {
          await run('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
          break;
        } catch (e) {
          if (attempt > 20) throw e;
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
        }
      }
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const p = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
        p.stdin.end(`${TEST_USER}:${TEST_PASSWORD}\n`);
        await new Promise<void>((resolve, reject) => p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited ${code}`)))));
        break;
      } catch (e) {
        if (attempt > 20) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
    const uid = Number((await run('id', ['-u', TEST_USER])).stdout.trim());
    const home = (await run('sh', ['-c', `getent passwd ${TEST_USER} | cut -d: -f6`])).stdout.trim();
    return { uid, home };
  })();
  return userReady;
}

async function keygen(path: string, passphrase = '', type = 'ed25519'): Promise<TestKey> {
  await run('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'skydeck-test', '-f', path]);
  chmodSync(path, 0o600);
  return { privateKey: readFileSync(path, 'utf8'), privateKeyPath: path, publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

export async function fingerprintOf(pubPath: string): Promise<{ fingerprint: string; algorithm: string }> {
  const out = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath])).stdout.trim();
  const m = /^\d+ (SHA256:\S+) .*\((\w+)\)$/.exec(out);
  if (!m) throw new Error(`cannot read fingerprint: ${out}`);
  const algorithm = m[2] === 'ED25519' ? 'ssh-ed25519' : m[2] === 'RSA' ? 'rsa-sha2-512' : m[2]!.toLowerCase();
  return { fingerprint: m[1]!, algorithm };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Every process below `root` (from /proc). */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      /* exited */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parent) if (pp === p) {
      out.push(pid);
      walk(pid);
    }
  };
  walk(root);
  return out;
}

export interface TestSshdOptions {
  /** Extra sshd_config lines (e.g. `AllowStreamLocalForwarding no`). */
  extraConfig?: string[];
  /** Lines appended at the very end (Match blocks). */
  matchConfig?: string[];
}

export async function startTestSshd(opts: TestSshdOptions = {}): Promise<TestSshd> {
  const { home, uid } = await ensureTestUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-sshd-'));
  chmodSync(dir, 0o755);
  const hostKeyPath = join(dir, 'host_ed25519');
  await keygen(hostKeyPath);
  const [plain, encrypted, other] = await Promise.all([keygen(join(dir, 'id_plain')), keygen(join(dir, 'id_encrypted'), 'correct horse'), keygen(join(dir, 'id_other'))]);
  const akDir = join(dir, 'authorized_keys');
  mkdirSync(akDir, { mode: 0o755 });
  for (const u of [TEST_USER, 'root']) writeFileSync(join(akDir, u), `${plain.publicKey}\n${encrypted.publicKey}\n`, { mode: 0o644 });
  let hostKey = await fingerprintOf(`${hostKeyPath}.pub`);

  const port = await freePort();
  const conf = join(dir, 'sshd_config');
  const logPath = join(dir, 'sshd.log');
  writeFileSync(
    conf,
    [
      // sshd takes the first value it reads for a keyword: the extra lines go first so that they win.
      ...(opts.extraConfig ?? []),
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${akDir}/%u`,
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin yes',
      'Subsystem sftp internal-sftp',
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      'UseDNS no',
      'MaxStartups 200:30:400',
      'MaxSessions 64',
      'MaxAuthTries 20',
      'LogLevel VERBOSE',
      ...(opts.matchConfig ?? []),
      '',
    ].join('\n'),
  );

  let child: ChildProcess | null = null;
  const startSshd = async () => {
    if (child) return;
    const c = spawn('/usr/sbin/sshd', ['-D', '-f', conf, '-E', logPath], { stdio: 'ignore' });
    child = c;
    c.on('exit', () => {
      if (child === c) child = null;
    });
    for (let i = 0; i < 200; i++) {
      if (await portOpen(port)) return;
      if (child !== c) throw new Error(`sshd exited: ${existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('sshd did not listen within 5 s');
  };
  const killSshd = async () => {
    const c = child;
    if (!c) return;
    child = null;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    // The listener and every connection's processes (each in a session of its own), so that "host down" is down.
    for (const pid of descendants(c.pid!)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    c.kill('SIGKILL');
    await exited;
  };
  await startSshd();

  const user = (username: string, home_: string, uid_: number, password: string | null): TestUser => ({
    username,
    password,
    privateKey: plain.privateKey,
    privateKeyPath: plain.privateKeyPath,
    encryptedKey: { privateKey: encrypted.privateKey, privateKeyPath: encrypted.privateKeyPath, passphrase: 'correct horse' },
    otherKey: { privateKey: other.privateKey, privateKeyPath: other.privateKeyPath },
    home: home_,
    uid: uid_,
  });

  const handle: TestSshd = {
    address: '127.0.0.1',
    port,
    hostKeyFingerprint: hostKey.fingerprint,
    hostKeyAlgorithm: hostKey.algorithm,
    dir,
    users: { test: user(TEST_USER, home, uid, TEST_PASSWORD), root: user('root', '/root', 0, null) },
    keys: { plain, encrypted: { ...encrypted, passphrase: 'correct horse' }, other },
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    killSshd,
    startSshd,
    async rotateHostKey() {
      rmSync(hostKeyPath, { force: true });
      rmSync(`${hostKeyPath}.pub`, { force: true });
      await keygen(hostKeyPath);
      hostKey = await fingerprintOf(`${hostKeyPath}.pub`);
      handle.hostKeyFingerprint = hostKey.fingerprint;
      return hostKey.fingerprint;
    },
    exec: (command) => run('sh', ['-c', command], { maxBuffer: 64 << 20 }),
    async stop() {
      await killSshd();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
