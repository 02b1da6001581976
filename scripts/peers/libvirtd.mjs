// A real libvirtd (qemu:///system, QEMU under TCG) inside one sshd peer host (scripts/peers/ssh-hosts.mjs): its own
// state, sockets, logs, capabilities cache and configuration, so that hosts never see each other's domains, pools or
// VNC ports, and nothing of the workstation's libvirt (if any) is used or changed.
//
// Inside the host's private mount namespace (bind mounts from HOST_ROOT/libvirt/…):
//   /etc/libvirt        private config: the stock top-level files, our libvirtd.conf and qemu.conf
//   /var/lib/libvirt    domain state, the `default` dir pool at /var/lib/libvirt/images
//   /run/libvirt        sockets and pid files (and /var/run/libvirt when /var/run is not a symlink to /run)
//   /var/log/libvirt    libvirtd.log, qemu/<domain>.log
//   /var/cache/libvirt  QEMU capabilities cache (seeded from the first host that probed, see CAPS_CACHE)
//   /etc/hosts          a copy naming the host, unless it has one that does (libvirtd looks its own name up at
//                       each domain start: without an answer it waits for the resolver's timeouts)
//   /etc/passwd, /etc/group   copies with a `libvirt-qemu` user and group: Debian's libvirt looks its compiled-in QEMU
//                       user up before it reads qemu.conf, and that user comes with libvirt-daemon-system, which this
//                       setup does not need (qemu.conf runs QEMU as root without dynamic ownership or a security driver)
//   /dev/kvm            hidden (an empty read-only file: open() fails with EROFS) unless SKYDECK_PEERS_KVM=1, so that
//                       guests are TCG (`<domain type='qemu'>`) on every machine, with or without usable KVM
//
// Two ways in:
//  - ssh-hosts.mjs: prepareLibvirt(dir, index) before the host's namespaces exist, libvirtMountScript(dir) as part of
//    the namespace setup, then startLibvirtd({ name, dir, enter, env, children, vncPortMin, vncPortMax });
//  - startLibvirtd(host, index) on a host that is already running (prepares and mounts through nsenter itself).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const LIBVIRT_URI = 'qemu:///system';
/** VNC ports per host: host i gets 5900 + 20·i … +19 (hosts have their own network namespaces; distinct anyway). */
export const VNC_PORTS_PER_HOST = 20;
/** The guest-facing bridge in every libvirt host, with an address of the host on it (guests use .10 and up). */
export const GUEST_BRIDGE = 'br0';
export const GUEST_BRIDGE_ADDRESS = '192.168.254.1';
export const GUEST_BRIDGE_PREFIX = 24;
/** QEMU capabilities probed once are copied into later hosts' caches (libvirt revalidates them itself). */
const CAPS_CACHE = '/run/skydeck-peers/libvirt-caps';
const QEMU_USER = 'libvirt-qemu';
const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root', TERM: 'dumb' };
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} s */
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * @typedef {{ code: number, stdout: string, stderr: string }} ExecResult
 * @typedef {{
 *   uri: string, vncPortMin: number, vncPortMax: number, pid: number, logPath: string, startMs: number,
 *   bridge: string, bridgeAddress: string, bridgePrefix: number, stateDir: string, qemuLogDir: string,
 *   virsh(args: string, opts?: { timeout?: number }): Promise<ExecResult>,
 *   stop(): Promise<void>, start(): Promise<void>
 * }} PeerLibvirtd
 */

/** @param {number} index */
export function vncRange(index) {
  const min = 5900 + (index % 2900) * VNC_PORTS_PER_HOST;
  return { vncPortMin: min, vncPortMax: min + VNC_PORTS_PER_HOST - 1 };
}

/** @param {string} path */
function fsType(path) {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** The state dirs of a host on the workstation's side. @param {string} dir the host's root */
function layout(dir) {
  const base = join(dir, 'libvirt');
  // Skydeck defines disks with cache='none' (O_DIRECT), which tmpfs refuses before Linux 6.6: images then live on disk.
  const images = fsType(dir) === 'tmpfs' ? join('/var/tmp/skydeck-peers', basename(dirname(dir)), basename(dir), 'images') : join(base, 'lib', 'images');
  return { base, etc: join(base, 'etc'), lib: join(base, 'lib'), run: join(base, 'run'), log: join(base, 'log'), cache: join(base, 'cache'), images, passwd: join(base, 'passwd'), group: join(base, 'group'), hosts: join(base, 'hosts'), noKvm: join(base, 'no-kvm.sock'), out: join(base, 'libvirtd.out') };
}

/** /etc/passwd and /etc/group with the QEMU user libvirt looks up (a uid/gid nothing else uses). */
function patchedAccounts() {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const group = readFileSync('/etc/group', 'utf8');
  const ids = (text) => new Set(text.split('\n').map((l) => Number(l.split(':')[2])).filter((n) => Number.isFinite(n)));
  const used = new Set([...ids(passwd), ...ids(group)]);
  let id = 64055; // what Debian's libvirt-daemon-system usually gets
  while (used.has(id)) id++;
  const nl = (s) => (s.endsWith('\n') ? s : `${s}\n`);
  const hasUser = passwd.split('\n').some((l) => l.startsWith(`${QEMU_USER}:`));
  const hasGroup = group.split('\n').some((l) => l.startsWith(`${QEMU_USER}:`));
  const gid = hasGroup ? Number(group.split('\n').find((l) => l.startsWith(`${QEMU_USER}:`))?.split(':')[2]) : id;
  return {
    passwd: hasUser ? passwd : `${nl(passwd)}${QEMU_USER}:x:${id}:${gid}:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin\n`,
    group: `${nl(hasGroup ? group : `${nl(group)}${QEMU_USER}:x:${gid}:`)}${group.split('\n').some((l) => l.startsWith('libvirt:')) ? '' : `libvirt:x:${gid + 1 + (used.has(gid + 1) ? 1000 : 0)}:\n`}`,
  };
}

/**
 * Creates the host's private libvirt directories and configuration (synchronous: before its namespaces exist).
 * @param {string} dir the host's root (`host.root`)
 * @param {number} index the host's index (its VNC port range)
 * @returns {{ vncPortMin: number, vncPortMax: number }}
 */
export function prepareLibvirt(dir, index) {
  const L = layout(dir);
  const { vncPortMin, vncPortMax } = vncRange(index);
  rmSync(L.base, { recursive: true, force: true });
  if (!L.images.startsWith(L.base)) rmSync(dirname(L.images), { recursive: true, force: true });
  // What the packages would create and libvirtd expects to exist (domain logs, serial logs next to them).
  for (const d of [L.etc, L.lib, L.run, L.log, join(L.log, 'qemu'), L.cache, L.images]) mkdirSync(d, { recursive: true, mode: 0o755 });
  chmodSync(L.images, 0o711);
  // The stock top-level files (libvirt.conf, libvirt-admin.conf…) and nwfilter definitions; never the workstation's
  // domains, networks, pools or secrets.
  if (existsSync('/etc/libvirt')) {
    for (const e of readdirSync('/etc/libvirt', { withFileTypes: true })) {
      if (e.isFile() && e.name !== 'libvirtd.conf' && e.name !== 'qemu.conf') copyFileSync(join('/etc/libvirt', e.name), join(L.etc, e.name));
      else if (e.isDirectory() && e.name === 'nwfilter') cpSync(join('/etc/libvirt', e.name), join(L.etc, e.name), { recursive: true });
    }
  }
  writeFileSync(
    join(L.etc, 'libvirtd.conf'),
    [
      '# Skydeck test peer: local UNIX sockets only, no authentication (root in this host only).',
      'unix_sock_group = "root"',
      'unix_sock_ro_perms = "0777"',
      'unix_sock_rw_perms = "0770"',
      'auth_unix_ro = "none"',
      'auth_unix_rw = "none"',
      'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(L.etc, 'qemu.conf'),
    [
      '# Skydeck test peer: QEMU as root, no relabelling, no cgroups, no per-domain namespaces, no virtlogd.',
      'user = "root"',
      'group = "root"',
      'dynamic_ownership = 0',
      'remember_owner = 0',
      'security_driver = "none"',
      'stdio_handler = "file"',
      'cgroup_controllers = [ ]',
      'namespaces = [ ]',
      'vnc_listen = "127.0.0.1"',
      `remote_display_port_min = ${vncPortMin}`,
      `remote_display_port_max = ${vncPortMax}`,
      '',
    ].join('\n'),
  );
  const acc = patchedAccounts();
  writeFileSync(L.passwd, acc.passwd, { mode: 0o644 });
  writeFileSync(L.group, acc.group, { mode: 0o644 });
  // libvirtd resolves the host's own name at every domain start (log headers): without it in /etc/hosts that waits
  // for the resolver's timeouts (~10 s) where there is no DNS.
  const stockHosts = existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '127.0.0.1 localhost\n';
  writeFileSync(L.hosts, `${stockHosts.endsWith('\n') ? stockHosts : `${stockHosts}\n`}127.0.1.1 ${basename(dir)}\n`, { mode: 0o644 });
  if (process.env.SKYDECK_PEERS_KVM !== '1') {
    // An empty regular file, bind-mounted read-only (libvirtMountScript): access(W_OK) fails with EROFS, so libvirt
    // sees KVM as unusable and keeps its TCG-only capabilities. (A socket or device file passes root's access() check:
    // libvirt then finds "KVM usable now", discards the cached capabilities and re-probes QEMU on every lookup, which
    // made each `virsh start` take ~15 s.)
    writeFileSync(L.noKvm, '');
  }
  // Capabilities another host probed: libvirt checks them against the binary, itself and the host before use.
  if (existsSync(CAPS_CACHE)) cpSync(CAPS_CACHE, join(L.cache, 'qemu', 'capabilities'), { recursive: true });
  return { vncPortMin, vncPortMax };
}

/**
 * Shell lines (run as root inside the host's new mount namespace, under `set -e`) that put the private directories
 * in place. The mount points themselves are created on the workstation if missing (empty directories).
 * @param {string} dir the host's root
 * @returns {string[]}
 */
export function libvirtMountScript(dir) {
  const L = layout(dir);
  const binds = [
    [L.etc, '/etc/libvirt'],
    [L.lib, '/var/lib/libvirt'],
    [L.run, '/run/libvirt'],
    [L.log, '/var/log/libvirt'],
    [L.cache, '/var/cache/libvirt'],
  ];
  let varRunIsLink = true;
  try {
    varRunIsLink = lstatSync('/var/run').isSymbolicLink() && ['/run', '../run'].includes(readlinkSync('/var/run'));
  } catch {
    /* no /var/run */
  }
  if (!varRunIsLink) binds.push([L.run, '/var/run/libvirt']);
  const lines = binds.flatMap(([from, to]) => [`mkdir -p ${q(to)}`, `mount --bind ${q(from)} ${q(to)}`]);
  if (!L.images.startsWith(L.base)) lines.push(`mount --bind ${q(L.images)} /var/lib/libvirt/images`);
  lines.push(`mount --bind ${q(L.passwd)} /etc/passwd`, `mount --bind ${q(L.group)} /etc/group`);
  // Only where the host's /etc/hosts does not name it already (ssh-hosts.mjs gives each host its own).
  lines.push(`grep -Eq '[[:space:]]${basename(dir)}([[:space:]]|$)' /etc/hosts || mount --bind ${q(L.hosts)} /etc/hosts`);
  if (existsSync(L.noKvm) && existsSync('/dev/kvm')) lines.push(`mount --bind ${q(L.noKvm)} /dev/kvm`, 'mount -o remount,bind,ro /dev/kvm');
  return lines;
}

/** @param {number} pid */
function alive(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** @param {number} pid */
function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** @param {number} pid */
function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Processes whose network namespace is `netns` (a /proc/PID/ns/net link) and whose command starts with `comm`. */
function processesIn(/** @type {string} */ netns, /** @type {string} */ comm) {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/net`) === netns && commOf(Number(e)).startsWith(comm) && alive(Number(e))) out.push(Number(e));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** @param {number[]} pids @param {number} ms */
async function waitGone(pids, ms) {
  const end = Date.now() + ms;
  while (pids.some(alive) && Date.now() < end) await sleep(20);
  return !pids.some(alive);
}

/** @param {string} path @param {number} n */
function tail(path, n = 8) {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-n).join(' | ');
  } catch {
    return '';
  }
}

/**
 * @param {string} cmd @param {string[]} args @param {{ env?: NodeJS.ProcessEnv, timeout?: number }} [o]
 * @returns {Promise<ExecResult>}
 */
function run(cmd, args, o = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: o.env ?? HOST_ENV, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: o.timeout ?? 0 });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    p.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/**
 * A host prepared by ssh-hosts.mjs, or (the other form) a running host and its index.
 * @typedef {{ name: string, dir: string, enter: string[], env?: NodeJS.ProcessEnv, children?: Set<import('node:child_process').ChildProcess>, vncPortMin: number, vncPortMax: number }} StartOptions
 */

/**
 * Starts libvirtd in the host and waits until `virsh -c qemu:///system` answers there; then the `default` dir pool at
 * /var/lib/libvirt/images (defined, started, autostarted) and the bridge br0 (up, with 192.168.254.1/24).
 * @param {StartOptions | import('./ssh-hosts.mjs').SshHost} a
 * @param {number} [index] with a running host: its index (VNC port range)
 * @returns {Promise<PeerLibvirtd>}
 */
export async function startLibvirtd(a, index) {
  /** @type {StartOptions} */
  let o;
  if ('nsPid' in a && typeof a.nsPid === 'number') {
    // A running host: prepare and mount through nsenter (its mount namespace is private, so the mounts stay in it).
    const host = /** @type {{ name: string, root: string, nsPid: number }} */ (a);
    const ownPid = readlinkSync('/proc/self/ns/pid');
    const enter = ['--target', String(host.nsPid), '--mount', '--uts', '--net', ...(readlinkSync(`/proc/${host.nsPid}/ns/pid`) !== ownPid ? ['--pid'] : [])];
    const ports = prepareLibvirt(host.root, index ?? 0);
    const r = await run('nsenter', [...enter, 'sh', '-c', ['set -e', ...libvirtMountScript(host.root), `ip link show ${GUEST_BRIDGE} >/dev/null 2>&1 || ip link add ${GUEST_BRIDGE} type bridge`].join('\n')]);
    if (r.code) throw new Error(`host ${host.name}: libvirt mounts failed: ${r.stderr.trim()}`);
    o = { name: host.name, dir: host.root, enter, ...ports };
  } else o = /** @type {StartOptions} */ (a);

  const { name, enter, vncPortMin, vncPortMax } = o;
  const env = o.env ?? HOST_ENV;
  const children = o.children ?? new Set();
  const L = layout(o.dir);
  const logPath = join(L.log, 'libvirtd.log');
  const inHost = (/** @type {string} */ cmd, /** @type {{ timeout?: number }} */ opts = {}) => run('nsenter', [...enter, 'sh', '-c', cmd], { env, timeout: opts.timeout ?? 0 });
  const virsh = (/** @type {string} */ args, /** @type {{ timeout?: number }} */ opts = {}) => inHost(`virsh -q -c ${LIBVIRT_URI} ${args}`, opts);
  /** @type {import('node:child_process').ChildProcess | null} */
  let proc = null;
  let pid = 0;
  let netns = '';

  const start = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) throw new Error(`host ${name}: libvirtd is running`);
    const t0 = Date.now();
    const out = openSync(L.out, 'a');
    const p = spawn('nsenter', [...enter, '/usr/sbin/libvirtd', '--config', '/etc/libvirt/libvirtd.conf', '--pid-file', '/run/libvirt/libvirtd.pid'], { stdio: ['ignore', out, out], env, cwd: '/' });
    closeSync(out);
    proc = p;
    children.add(p);
    p.on('exit', () => children.delete(p));
    p.on('error', () => undefined);
    const why = () => (p.exitCode !== null || p.signalCode !== null ? `host ${name}: libvirtd exited (${p.exitCode ?? p.signalCode}): ${tail(L.out)} ${tail(logPath)}` : null);
    // nsenter forks into the PID namespace: libvirtd is its child (or nsenter itself without --pid).
    for (const end = Date.now() + 5000; ; ) {
      const kids = childrenOf(/** @type {number} */ (p.pid));
      pid = kids.find((k) => commOf(k) === 'libvirtd') ?? (commOf(/** @type {number} */ (p.pid)) === 'libvirtd' ? /** @type {number} */ (p.pid) : 0);
      if (pid) break;
      if (why()) throw new Error(/** @type {string} */ (why()));
      if (Date.now() > end) throw new Error(`host ${name}: libvirtd did not start`);
      await sleep(10);
    }
    netns = readlinkSync(`/proc/${pid}/ns/net`);
    for (const end = Date.now() + 60_000; ; ) {
      const r = await virsh('list --all --name', { timeout: 20_000 });
      if (r.code === 0) break;
      if (why()) throw new Error(/** @type {string} */ (why()));
      if (Date.now() > end) throw new Error(`host ${name}: libvirtd did not answer within 60 s: ${r.stderr.trim()} ${tail(logPath)}`);
      await sleep(100);
    }
    const setup = await inHost(
      [
        'set -e',
        `V="virsh -q -c ${LIBVIRT_URI}"`,
        '$V pool-info default >/dev/null 2>&1 || { $V pool-define-as default dir --target /var/lib/libvirt/images >/dev/null; $V pool-autostart default >/dev/null; }',
        '$V pool-info default | grep -Eq "^State: +running" || $V pool-start default >/dev/null',
        `ip link show ${GUEST_BRIDGE} >/dev/null 2>&1 || ip link add ${GUEST_BRIDGE} type bridge`,
        `ip link set ${GUEST_BRIDGE} up`,
        `ip addr replace ${GUEST_BRIDGE_ADDRESS}/${GUEST_BRIDGE_PREFIX} dev ${GUEST_BRIDGE}`,
      ].join('\n'),
    );
    if (setup.code) throw new Error(`host ${name}: pool/bridge setup failed: ${setup.stderr.trim()}`);
    // The first host to probe QEMU shares its capabilities with the next ones (saves a probe per host).
    // (libvirt probes lazily, at the first define or start: forced here once, so that it costs one host, not each.)
    const caps = join(L.cache, 'qemu', 'capabilities');
    if (!existsSync(CAPS_CACHE)) await virsh('domcapabilities --virttype qemu --arch x86_64 >/dev/null', { timeout: 120_000 });
    if (!existsSync(CAPS_CACHE) && existsSync(caps) && readdirSync(caps).length) {
      const tmp = `${CAPS_CACHE}.${process.pid}`;
      cpSync(caps, tmp, { recursive: true });
      try {
        execFileSync('mv', ['-T', tmp, CAPS_CACHE], { stdio: 'ignore' });
      } catch {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    lv.pid = pid;
    lv.startMs = Date.now() - t0;
  };

  /** Destroys running domains, ends libvirtd and any QEMU left in the host. State (definitions, pool) is kept. */
  const stop = async () => {
    if (pid && alive(pid)) {
      const names = await virsh('list --name --state-running --state-paused --state-other', { timeout: 10_000 });
      for (const d of names.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) await virsh(`destroy ${q(d)}`, { timeout: 10_000 });
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      if (!(await waitGone([pid], 5000))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await waitGone([pid], 2000);
      }
    }
    if (netns) {
      const qemus = processesIn(netns, 'qemu-system');
      for (const p of qemus) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await waitGone(qemus, 3000);
    }
    const p = proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
    proc = null;
  };

  /** @type {PeerLibvirtd} */
  const lv = {
    uri: LIBVIRT_URI,
    vncPortMin,
    vncPortMax,
    pid: 0,
    logPath,
    startMs: 0,
    bridge: GUEST_BRIDGE,
    bridgeAddress: GUEST_BRIDGE_ADDRESS,
    bridgePrefix: GUEST_BRIDGE_PREFIX,
    stateDir: L.base,
    qemuLogDir: join(L.log, 'qemu'),
    virsh,
    stop,
    start,
  };
  try {
    await start();
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return lv;
}

