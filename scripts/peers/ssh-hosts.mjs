// Real SSH hosts for tests and benchmarks: one sshd per network namespace on a private bridge, each host with its own
// hostname, PID namespace, /tmp, /opt/skydeck, home directories and (optionally) its own libvirtd, so that agents
// installed on different hosts never see each other. Only these namespaces and loopback receive test traffic.
//
//   const { hosts, stop } = await startSshHosts({ count: 3, prefix: 'skd' });
//
// Needs root, iproute2, util-linux (unshare, nsenter), openssh-server, perl-base; libvirt-daemon(-driver-qemu) for
// `withLibvirt`. Layout and timings: scripts/peers/README.md.
//
// How a host is built: `ip netns add NAME` and a veth pair (eth0 inside, NAMEvI on the bridge outside); then
//   ip netns exec NAME unshare --uts --mount --propagation private --pid --fork --mount-proc --kill-child sh -c SETUP
// where SETUP configures eth0, sets the hostname, bind-mounts the host's private directories and ends in a tiny
// reaping init (perl) that is PID 1 of the host. sshd (-D) and libvirtd are started with nsenter into that init's
// namespaces as children of this process, so they are reaped here and can be killed and restarted by the tests.
// Killing the init ends every process of the host (the kernel kills a PID namespace with its init).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { libvirtMountScript, prepareLibvirt, startLibvirtd } from './libvirtd.mjs';
import { sh, shq as q, sleep } from './proc.mjs';

/** Where each host's private directories live (`host.root` = STATE_ROOT/prefix/name). */
export const STATE_ROOT = '/run/skydeck-peers';
export const TEST_USER = 'skydeck-test';
/** A throwaway local account's password (the same as main/hosts/ssh/testing/sshd.ts sets). */
export const TEST_PASSWORD = 'skydeck-test-pw-1';
const ENC_PASSPHRASE = 'correct horse battery staple';
/** Prefixes are letters and digits (never a name STATE_ROOT uses for itself, such as `subnets`). */
const PREFIX_RE = /^(?!subnets$)[a-z][a-z0-9]{0,30}$/i;
/** A clean environment for everything started inside a host (nothing of the test runner's leaks into the host). */
const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root', TERM: 'dumb' };
// PID 1 of each host: reaps orphans (daemonised agents, qemu, session children) so that no zombies pile up.
const REAPER = 'exec perl -e \'$0="skydeck-peer-init"; $SIG{TERM}="IGNORE"; while (1) { sleep 1 if wait() == -1 }\'';

/** @typedef {import('./proc.mjs').ExecResult} ExecResult */

/**
 * The OpenSSH fingerprint of a public key file, as `ssh-keygen -lf` prints it: SHA256 of the key blob, unpadded base64.
 * @param {string} pubPath
 */
export function fingerprintOf(pubPath) {
  const blob = Buffer.from(readFileSync(pubPath, 'utf8').trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** @param {string} path @param {string} [passphrase] */
async function keygen(path, passphrase = '') {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'skydeck-test', '-f', path]);
  chmodSync(path, 0o600);
}

/** @type {Promise<{ uid: number, gid: number, home: string }> | null} */
let userReady = null;
/**
 * The test user (shell /bin/sh, known password), created once and kept across runs; tolerant of parallel test files
 * racing on /etc/passwd and /etc/shadow.
 */
export function ensureTestUser() {
  userReady ??= (async () => {
    for (let attempt = 0; ; attempt++) {
      if ((await sh('id', ['-u', TEST_USER], { allowFail: true })).code === 0) break;
      if ((await sh('useradd', ['-m', '-s', '/bin/sh', TEST_USER], { allowFail: true })).code === 0) break;
      if (attempt > 20) throw new Error(`cannot create the test user ${TEST_USER}`);
      await sleep(100 + Math.random() * 200);
    }
    for (let attempt = 0; ; attempt++) {
      if ((await sh('chpasswd', [], { allowFail: true, input: `${TEST_USER}:${TEST_PASSWORD}\n` })).code === 0) break;
      if (attempt > 20) throw new Error(`cannot set the password of ${TEST_USER}`);
      await sleep(100 + Math.random() * 200);
    }
    const [, , uid, gid, , home] = (await sh('getent', ['passwd', TEST_USER])).stdout.trim().split(':');
    return { uid: Number(uid), gid: Number(gid), home: home || `/home/${TEST_USER}` };
  })();
  userReady.catch(() => (userReady = null));
  return userReady;
}

/**
 * Interface names for a prefix (Linux allows 15 characters): the prefix itself when short, else a hash of it.
 * @param {string} prefix
 */
function ifNames(prefix) {
  const base = /^[a-z][a-z0-9]{0,9}$/i.test(prefix) ? prefix : `k${createHash('sha1').update(prefix).digest('hex').slice(0, 7)}`;
  return { bridge: `${base}br0`, veth: (/** @type {number} */ i) => `${base}v${i}`, vethRe: new RegExp(`^${base}v\\d+$`) };
}

/** @param {string} s */
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** @param {string} prefix */
async function staleNamespaces(prefix) {
  const re = new RegExp(`^${escapeRe(prefix)}-\\d+$`);
  const out = (await sh('ip', ['netns', 'list'], { allowFail: true })).stdout;
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => re.test(n));
}

/** @param {number} pid */
function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** @param {number[]} pids @param {number} ms */
async function waitGone(pids, ms) {
  const end = Date.now() + ms;
  while (pids.some(alive) && Date.now() < end) await sleep(20);
}

/**
 * Removes what an earlier run with this prefix left (a killed test run): every process in its namespaces, the
 * namespaces, the bridge and veths, and the hosts' private directories. Touches nothing of other prefixes.
 * @param {string} [prefix]
 */
export async function cleanupStale(prefix = 'skd') {
  if (!PREFIX_RE.test(prefix)) throw new Error(`not a peers prefix: ${prefix}`);
  const names = await staleNamespaces(prefix);
  const pids = [];
  for (const n of names) {
    for (const p of (await sh('ip', ['netns', 'pids', n], { allowFail: true })).stdout.split('\n').filter(Boolean)) {
      pids.push(Number(p));
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
  }
  await waitGone(pids, 3000);
  for (const n of names) await sh('ip', ['netns', 'del', n], { allowFail: true });
  const { bridge, vethRe } = ifNames(prefix);
  const links = (await sh('ip', ['-o', 'link', 'show'], { allowFail: true })).stdout
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((l) => l === bridge || vethRe.test(l));
  for (const l of links) await sh('ip', ['link', 'del', l], { allowFail: true });
  // The run's subnet lease, if it is still the run's own.
  const base = join(STATE_ROOT, prefix);
  try {
    const leased = readFileSync(join(base, 'lease'), 'utf8').trim();
    const claim = join(STATE_ROOT, 'subnets', leased);
    if (/^\d+\.\d+$/.test(leased) && readFileSync(join(claim, 'pid'), 'utf8').trim() === readFileSync(join(base, 'owner'), 'utf8').trim()) rmSync(claim, { recursive: true, force: true });
  } catch {
    /* no lease, or taken over */
  }
  rmSync(base, { recursive: true, force: true });
}

/**
 * Removes the runs whose owning process is gone (a crashed test file or CLI): every prefix under STATE_ROOT with an
 * `owner` pid that no longer exists. Answers the prefixes removed. Runs of live processes are never touched.
 */
export async function cleanupOrphans() {
  /** @type {string[]} */
  const removed = [];
  if (!existsSync(STATE_ROOT)) return removed;
  // Subnet leases of dead owners (claimSubnet would take them over anyway).
  const leases = join(STATE_ROOT, 'subnets');
  for (const s of existsSync(leases) ? readdirSync(leases) : []) {
    const pidFile = join(leases, s, 'pid');
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (owner && !alive(owner)) rmSync(join(leases, s), { recursive: true, force: true });
  }
  for (const e of readdirSync(STATE_ROOT, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === 'subnets') continue;
    const ownerFile = join(STATE_ROOT, e.name, 'owner');
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, 'utf8').trim());
    if (owner && alive(owner)) continue;
    await cleanupStale(e.name);
    removed.push(e.name);
  }
  return removed;
}

/**
 * Resolves when a TCP connect to address:port succeeds (from the root namespace, i.e. across the bridge).
 * @param {string} address @param {number} port @param {number} ms @param {() => string | null} [failed] a reason to stop early
 */
export function waitPort(address, port, ms, failed) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host: address, port });
      s.once('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', () => {
        s.destroy();
        const why = failed?.();
        if (why) reject(new Error(why));
        else if (Date.now() > end) reject(new Error(`${address}:${port} did not open within ${ms} ms`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/** Subnets (first two octets) that some interface already has an address in. */
function subnetsInUse() {
  const out = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  return new Set([...out.matchAll(/inet (\d+\.\d+)\./g)].map((m) => m[1]));
}

/**
 * A /16 of its own for this run (10.150–10.199), so that test files running in parallel never share addresses: claimed
 * with an atomic mkdir that records the owner's pid; a claim whose owner is gone is taken over. Subnets some
 * interface already uses (a leftover of another prefix) are skipped.
 */
function claimSubnet() {
  const dir = join(STATE_ROOT, 'subnets');
  mkdirSync(dir, { recursive: true });
  const used = subnetsInUse();
  for (let n = 150; n < 200; n++) {
    if (used.has(`10.${n}`)) continue;
    const claim = join(dir, `10.${n}`);
    try {
      mkdirSync(claim);
    } catch {
      const owner = Number(existsSync(join(claim, 'pid')) ? readFileSync(join(claim, 'pid'), 'utf8') : 0);
      if (owner && existsSync(`/proc/${owner}`)) continue;
      rmSync(claim, { recursive: true, force: true });
      try {
        mkdirSync(claim);
      } catch {
        continue;
      }
    }
    writeFileSync(join(claim, 'pid'), String(process.pid));
    return { subnet: `10.${n}`, release: () => rmSync(claim, { recursive: true, force: true }) };
  }
  throw new Error('no free test subnet in 10.150–10.199');
}

/** @param {string} subnet @param {number} i */
function addressOf(subnet, i) {
  return `${subnet}.${Math.floor(i / 250)}.${(i % 250) + 2}`;
}

/** @param {number} pid */
function netnsOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

/**
 * Processes in the network namespace `ns` (a /proc/PID/ns/net link) whose command name starts with `comm`.
 * @param {string} ns @param {string} comm
 */
function processesIn(ns, comm) {
  const found = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) !== ns) continue;
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim().startsWith(comm) && alive(Number(e))) found.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

/**
 * Runs `fn` over 0..count-1 with at most `limit` at a time; answers the results in order.
 * @template T
 * @param {number} count @param {number} limit @param {(i: number) => Promise<T>} fn
 * @returns {Promise<T[]>}
 */
async function pool(count, limit, fn) {
  /** @type {T[]} */
  const out = new Array(count);
  let next = 0;
  /** @type {unknown} */
  let failure = null;
  const worker = async () => {
    while (next < count && !failure) {
      const i = next++;
      try {
        out[i] = await fn(i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure) throw failure;
  return out;
}

/** Runs that have not been stopped: removed synchronously if this process exits without stop(). */
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const run of live) {
      for (const pid of run.initPids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      for (const n of run.names) {
        try {
          execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
        } catch {
          /* gone */
        }
      }
      try {
        execFileSync('ip', ['link', 'del', run.bridge], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
      rmSync(run.base, { recursive: true, force: true });
      rmSync(run.keysDir, { recursive: true, force: true });
      run.release?.();
    }
  });
}

/**
 * @typedef {{ privateKey: string, privateKeyPath: string }} PeerKey
 * @typedef {import('./libvirtd.mjs').PeerLibvirtd} PeerLibvirtd
 * @typedef {{
 *   name: string, ns: string, address: string, port: number, hostKeyFingerprint: string, hostKeyPath: string, root: string,
 *   users: { root: PeerKey & { username: 'root' }, test: PeerKey & { username: string, password: string, encryptedKey: PeerKey & { passphrase: string }, otherKey: PeerKey } },
 *   exec(cmd: string, opts?: { timeout?: number }): Promise<ExecResult>, killSshd(): Promise<void>, startSshd(): Promise<void>, rotateHostKey(): Promise<string>,
 *   sshdLogPath: string, nsPid: number, holderPid: number, libvirtd?: PeerLibvirtd
 * }} SshHost
 */

/**
 * Starts `count` hosts. Each host answers SSH on port 22 of its own address (SUBNET.i/250.i%250+2), as root (key only)
 * and as `skydeck-test` (shell /bin/sh; password and keys). Without `subnet`, a free /16 in 10.150–10.199 is leased.
 * @param {{ count: number, prefix?: string, subnet?: string, withLibvirt?: boolean | number, passwordAuth?: boolean, batch?: number }} o
 *   withLibvirt: true for every host, or a number N for the first N hosts.
 */
export async function startSshHosts({ count, prefix = 'skd', subnet, withLibvirt = false, passwordAuth = true, batch = 16 }) {
  if (process.getuid?.() !== 0) throw new Error('startSshHosts needs root (network namespaces)');
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error('count must be 1–1000');
  if (!PREFIX_RE.test(prefix)) throw new Error('prefix must be letters and digits, starting with a letter');
  const started = Date.now();
  await cleanupStale(prefix);
  await cleanupOrphans().catch(() => []); // runs whose process died (killed test files): frees their subnets too
  /** @type {{ subnet: string, release(): void } | null} */
  let lease = null;
  if (!subnet) {
    lease = claimSubnet();
    subnet = lease.subnet;
  } else if (!/^\d{1,3}\.\d{1,3}$/.test(subnet)) throw new Error('subnet is the first two octets, e.g. 10.213');
  const net = subnet;
  const libvirtCount = withLibvirt === true ? count : Number(withLibvirt) || 0;
  const user = await ensureTestUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (const d of ['/opt/skydeck', user.home]) mkdirSync(d, { recursive: true });
  const base = join(STATE_ROOT, prefix);
  mkdirSync(base, { recursive: true });
  writeFileSync(join(base, 'owner'), `${process.pid}\n`); // for cleanupOrphans()
  if (lease) writeFileSync(join(base, 'lease'), `${net}\n`); // for cleanupStale()
  const keysDir = join(base, 'keys'); // inside the run's directory: cleanupStale() removes it too
  mkdirSync(keysDir, { mode: 0o700 });
  const { bridge, veth } = ifNames(prefix);
  /** @type {string[]} */
  const names = [];
  /** @type {number[]} */
  const initPids = [];
  const run = { names, initPids, bridge, base, keysDir, release: lease?.release };
  live.add(run);
  installExitHook();

  // Client keys shared by every host of this run: authorised (plain and encrypted) and one that is not.
  const userKey = join(keysDir, 'id_test');
  const encKey = join(keysDir, 'id_test_enc');
  const otherKey = join(keysDir, 'id_other');
  const rootKey = join(keysDir, 'id_root');
  const read = (/** @type {string} */ p) => readFileSync(p, 'utf8');
  /** @type {SshHost[]} */
  let hosts;
  /** @type {Set<import('node:child_process').ChildProcess>} */
  const children = new Set();
  try {
    await Promise.all([keygen(userKey), keygen(encKey, ENC_PASSPHRASE), keygen(otherKey), keygen(rootKey)]);
    const authorizedTest = `${read(`${userKey}.pub`)}${read(`${encKey}.pub`)}`;
    const authorizedRoot = read(`${rootKey}.pub`);
    const skelProfile = existsSync('/etc/skel/.profile') ? read('/etc/skel/.profile') : '';
    const stockHosts = `${(existsSync('/etc/hosts') ? read('/etc/hosts') : '127.0.0.1 localhost').trimEnd()}\n`;
    const peerHosts = Array.from({ length: count }, (_, i) => `${addressOf(net, i)} ${prefix}-${i}\n`).join('');

    await sh('ip', ['-batch', '-'], { input: `link add ${bridge} type bridge\naddr add ${net}.0.1/16 dev ${bridge}\nlink set ${bridge} up\n` });

    /** @param {number} i @returns {Promise<SshHost>} */
    const startOne = async (i) => {
      const name = `${prefix}-${i}`;
      const address = addressOf(net, i);
      const dir = join(base, name);
      const withLv = i < libvirtCount;
      for (const d of ['tmp', 'opt', 'home', 'roothome/.local', 'etc', 'auth', 'empty']) mkdirSync(join(dir, d), { recursive: true });
      chmodSync(join(dir, 'tmp'), 0o1777);
      chmodSync(join(dir, 'roothome'), 0o700);
      chownSync(join(dir, 'home'), user.uid, user.gid);
      writeFileSync(join(dir, 'roothome', '.bashrc'), '');
      writeFileSync(join(dir, 'roothome', '.profile'), skelProfile);
      writeFileSync(join(dir, 'auth', TEST_USER), authorizedTest);
      writeFileSync(join(dir, 'auth', 'root'), authorizedRoot);
      // Its own name resolves (no DNS is reachable from a host: lookups would wait for a timeout), and so do its peers'.
      writeFileSync(join(dir, 'etc', 'hosts'), `${stockHosts}127.0.1.1 ${name}\n${peerHosts}`);
      // Any other lookup fails at once (refused on the host's loopback) instead of leaving the test network.
      writeFileSync(join(dir, 'etc', 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
      const hostKey = join(dir, 'etc', 'ssh_host_ed25519_key');
      const conf = join(dir, 'etc', 'sshd_config');
      const sshdLog = join(dir, 'sshd.log');
      writeFileSync(
        conf,
        [
          'Port 22',
          `ListenAddress ${address}`,
          `HostKey ${hostKey}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(dir, 'auth')}/%u`,
          `PasswordAuthentication ${passwordAuth ? 'yes' : 'no'}`,
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'PermitRootLogin prohibit-password',
          'AllowStreamLocalForwarding yes',
          'AllowTcpForwarding yes',
          'Subsystem sftp internal-sftp',
          'MaxSessions 64',
          'MaxStartups 200:30:300',
          'UseDNS no',
          'PrintMotd no',
          'LogLevel INFO',
          '',
        ].join('\n'),
      );
      /** @type {string[]} */
      let lvMounts = [];
      /** @type {{ vncPortMin: number, vncPortMax: number } | null} */
      let lv = null;
      const keyReady = keygen(hostKey);
      if (withLv) {
        lv = prepareLibvirt(dir, i);
        lvMounts = libvirtMountScript(dir);
      }
      const vname = veth(i);
      names.push(name);
      await sh('ip', ['-batch', '-'], { input: `netns add ${name}\nlink add ${vname} type veth peer name eth0 netns ${name}\nlink set ${vname} master ${bridge} up\n` });
      await keyReady;

      const setup = [
        'set -e',
        'ip link set lo up',
        `ip addr add ${address}/16 dev eth0`,
        'ip link set eth0 up',
        `ip route add default via ${net}.0.1`,
        ...(withLv ? ['ip link add br0 type bridge', 'ip link set br0 up'] : []),
        `hostname ${name}`,
        `mount --bind ${q(join(dir, 'tmp'))} /tmp`,
        `mount --bind ${q(join(dir, 'opt'))} /opt/skydeck`,
        `mount --bind ${q(join(dir, 'home'))} ${q(user.home)}`,
        `mount --bind ${q(join(dir, 'roothome'))} /root`,
        `mount --bind ${q(join(dir, 'etc', 'hosts'))} /etc/hosts`,
        `if [ -e /etc/resolv.conf ]; then mount --bind ${q(join(dir, 'etc', 'resolv.conf'))} /etc/resolv.conf; fi`,
        // A host without its own libvirtd must not reach this machine's (if one runs): an empty /run/libvirt.
        ...(withLv ? lvMounts : [`if [ -d /run/libvirt ]; then mount --bind ${q(join(dir, 'empty'))} /run/libvirt; fi`]),
        'echo ready',
        REAPER,
      ].join('\n');
      const holder = spawn('ip', ['netns', 'exec', name, 'unshare', '--uts', '--mount', '--propagation', 'private', '--pid', '--fork', '--mount-proc', '--kill-child', 'sh', '-c', setup], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: HOST_ENV,
        cwd: '/',
      });
      children.add(holder);
      let holderErr = '';
      holder.stderr.on('data', (d) => (holderErr += d));
      await new Promise((resolve, reject) => {
        let out = '';
        const onData = (/** @type {Buffer} */ d) => {
          out += d;
          if (out.includes('ready\n')) resolve(undefined);
        };
        holder.stdout.on('data', onData);
        holder.once('exit', (code) => reject(new Error(`host ${name}: namespace setup failed (${code}): ${holderErr.trim()}`)));
        holder.once('error', reject);
      });
      holder.stdout.destroy();
      holder.on('exit', () => children.delete(holder));
      const holderPid = /** @type {number} */ (holder.pid);
      // PID 1 of the host: the only child of `unshare --fork`.
      const nsPid = Number(readFileSync(`/proc/${holderPid}/task/${holderPid}/children`, 'utf8').trim().split(/\s+/)[0]);
      if (!nsPid) throw new Error(`host ${name}: no init process`);
      initPids.push(nsPid);
      const enter = ['--target', String(nsPid), '--mount', '--uts', '--net', '--pid'];
      const netns = netnsOf(nsPid) ?? '';

      /** @type {import('node:child_process').ChildProcess | null} */
      let sshd = null;
      const startSshd = async () => {
        if (sshd && sshd.exitCode === null && sshd.signalCode === null) throw new Error(`host ${name}: sshd is running`);
        const p = spawn('nsenter', [...enter, '/usr/sbin/sshd', '-D', '-f', conf, '-E', sshdLog], { stdio: 'ignore', env: HOST_ENV, cwd: '/' });
        sshd = p;
        children.add(p);
        p.on('exit', () => children.delete(p));
        await waitPort(address, 22, 10_000, () => (p.exitCode !== null ? `host ${name}: sshd exited (${p.exitCode}): ${tail(sshdLog)}` : null));
      };
      /** The host is lost: every sshd process of it (listener and sessions) is killed with SIGKILL. */
      const killSshd = async () => {
        const pids = processesIn(netns, 'sshd');
        for (const p of pids) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        const p = sshd;
        if (p && p.exitCode === null && p.signalCode === null) await new Promise((r) => p.once('exit', r));
        await waitGone(pids, 3000);
      };
      await startSshd();

      /** @type {SshHost} */
      const host = {
        name,
        ns: name,
        address,
        port: 22,
        hostKeyFingerprint: fingerprintOf(`${hostKey}.pub`),
        hostKeyPath: hostKey,
        root: dir,
        users: {
          root: { username: 'root', privateKey: read(rootKey), privateKeyPath: rootKey },
          test: {
            username: TEST_USER,
            password: TEST_PASSWORD,
            privateKey: read(userKey),
            privateKeyPath: userKey,
            encryptedKey: { privateKey: read(encKey), privateKeyPath: encKey, passphrase: ENC_PASSPHRASE },
            otherKey: { privateKey: read(otherKey), privateKeyPath: otherKey },
          },
        },
        /** Runs a shell command as root inside the host (its mount, UTS, network and PID namespaces). */
        exec: (cmd, opts = {}) => sh('nsenter', [...enter, 'sh', '-c', cmd], { allowFail: true, env: HOST_ENV, timeout: opts.timeout ?? 0 }),
        killSshd,
        startSshd,
        /** A new host key (as after a reinstall): sshd restarts with it; answers the new fingerprint. */
        rotateHostKey: async () => {
          await killSshd();
          await keygen(hostKey);
          host.hostKeyFingerprint = fingerprintOf(`${hostKey}.pub`);
          await startSshd();
          return host.hostKeyFingerprint;
        },
        sshdLogPath: sshdLog,
        nsPid,
        holderPid,
      };
      if (lv) host.libvirtd = await startLibvirtd({ name, dir, enter, env: HOST_ENV, children, ...lv });
      return host;
    };
    hosts = await pool(count, Math.max(1, batch), startOne);
  } catch (e) {
    await stopAll();
    throw e;
  }

  async function stopAll() {
    for (const pid of initPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await waitGone(initPids, 3000);
    for (const c of [...children]) c.kill('SIGKILL');
    await Promise.all([...children].map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    await cleanupStale(prefix);
    rmSync(keysDir, { recursive: true, force: true });
    lease?.release();
    live.delete(run);
  }

  return {
    hosts,
    bridge,
    subnet: net,
    startMs: Date.now() - started,
    keysDir,
    /** Ends every process of every host and removes the namespaces, the bridge, the private directories and the keys. */
    stop: stopAll,
  };
}

/** @param {string} path */
function tail(path) {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '';
  }
}

