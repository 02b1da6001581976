// Real SSH hosts for tests and benchmarks: one sshd per network namespace on a private bridge, each host with its own
// hostname, its own /tmp, /opt/skydeck, home directories and (optionally) its own libvirtd, so that agents installed on
// different hosts never see each other. Only these namespaces and loopback receive test traffic.
//
//   const { hosts, stop } = await startSshHosts({ count: 3, prefix: 'skd' });
//
// Needs root, iproute2, util-linux (unshare, nsenter), openssh-server; libvirt-daemon for `withLibvirt`.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TEST_USER = 'skydeck-test';
const TEST_PASSWORD = 'skydeck-test-pw-1';
const STATE_ROOT = '/run/skydeck-peers';

async function sh(cmd, args, opts = {}) {
  try {
    return await run(cmd, args, { maxBuffer: 16 << 20, ...opts });
  } catch (e) {
    if (opts.allowFail) return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: e });
  }
}

/** The OpenSSH fingerprint of a public key file: SHA256 of the key blob, unpadded base64. */
export function fingerprintOf(pubPath) {
  const blob = Buffer.from(readFileSync(pubPath, 'utf8').trim().split(/\s+/)[1], 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

async function keygen(path, passphrase = '') {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'skydeck-test', '-f', path]);
  chmodSync(path, 0o600);
}

async function ensureTestUser() {
  const { code } = await sh('id', ['-u', TEST_USER], { allowFail: true });
  if (code) await sh('useradd', ['-m', '-s', '/bin/sh', TEST_USER]);
  await run('sh', ['-c', `echo '${TEST_USER}:${TEST_PASSWORD}' | chpasswd`]);
}

/** Removes namespaces, veths and bridges left by an earlier run with this prefix (a killed test run). */
export async function cleanupStale(prefix = 'skd') {
  const ns = (await sh('ip', ['netns', 'list'], { allowFail: true })).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n && n.startsWith(`${prefix}-`));
  for (const n of ns) {
    const pids = (await sh('ip', ['netns', 'pids', n], { allowFail: true })).stdout.split('\n').filter(Boolean);
    for (const p of pids) await sh('kill', ['-9', p], { allowFail: true });
    await sh('ip', ['netns', 'del', n], { allowFail: true });
  }
  const links = (await sh('ip', ['-o', 'link', 'show'], { allowFail: true })).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0]).filter((l) => l && (l.startsWith(`${prefix}v`) || l === `${prefix}br0`));
  for (const l of links) await sh('ip', ['link', 'del', l], { allowFail: true });
  rmSync(join(STATE_ROOT, prefix), { recursive: true, force: true });
}


function waitPort(address, port, ms) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host: address, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`${address}:${port} did not open within ${ms} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * A /16 of its own for this run (10.150–10.199), so that test files running in parallel never share addresses: claimed
 * with an atomic mkdir that records the owner's pid; a claim whose owner is gone is taken over.
 */
function claimSubnet() {
  const dir = join(STATE_ROOT, 'subnets');
  mkdirSync(dir, { recursive: true });
  for (let n = 150; n < 200; n++) {
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

function addressOf(subnet, i) {
  return `${subnet}.${Math.floor(i / 250)}.${(i % 250) + 2}`;
}

/**
 * Starts `count` hosts. Each host answers SSH on port 22 of its own address (10.213.x.y), as root (key only) and as
 * `skydeck-test` (shell /bin/sh; password and keys).
 */
export async function startSshHosts({ count, prefix = 'skd', subnet, withLibvirt = false, passwordAuth = true, batch = 10 } = {}) {
  if (process.getuid?.() !== 0) throw new Error('startSshHosts needs root (network namespaces)');
  await cleanupStale(prefix);
  let lease = null;
  if (!subnet) {
    lease = claimSubnet();
    subnet = lease.subnet;
  }
  await ensureTestUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const base = join(STATE_ROOT, prefix);
  mkdirSync(base, { recursive: true });
  const keysDir = mkdtempSync(join(tmpdir(), `${prefix}-keys-`));
  // Client keys shared by every host of this run: authorised (plain and encrypted) and one that is not.
  const userKey = join(keysDir, 'id_test');
  const encKey = join(keysDir, 'id_test_enc');
  const otherKey = join(keysDir, 'id_other');
  const rootKey = join(keysDir, 'id_root');
  const encPass = 'correct horse battery staple';
  await Promise.all([keygen(userKey), keygen(encKey, encPass), keygen(otherKey), keygen(rootKey)]);
  const read = (p) => readFileSync(p, 'utf8');
  const authorizedTest = `${read(`${userKey}.pub`)}${read(`${encKey}.pub`)}`;
  const authorizedRoot = read(`${rootKey}.pub`);

  const bridge = `${prefix}br0`;
  await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await sh('ip', ['addr', 'add', `${subnet}.0.1/16`, 'dev', bridge]);
  await sh('ip', ['link', 'set', bridge, 'up']);

  const hosts = [];
  const started = Date.now();
  const startOne = async (i) => {
    const name = `${prefix}-${i}`;
    const address = addressOf(subnet, i);
    const dir = join(base, name);
    for (const d of ['tmp', 'opt', 'home', 'rootlocal', 'etc', 'auth']) mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, 'tmp'), 0o1777);
    const home = join(dir, 'home');
    const uid = Number((await sh('id', ['-u', TEST_USER])).stdout.trim());
    const gid = Number((await sh('id', ['-g', TEST_USER])).stdout.trim());
    await sh('chown', [`${uid}:${gid}`, home]);
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'auth', TEST_USER), authorizedTest);
    writeFileSync(join(dir, 'auth', 'root'), authorizedRoot);
    const hostKey = join(dir, 'etc', 'ssh_host_ed25519_key');
    await keygen(hostKey);
    const conf = join(dir, 'etc', 'sshd_config');
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
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const veth = `${prefix}v${i}`;
    await sh('ip', ['netns', 'add', name]);
    await sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`]);
    await sh('ip', ['link', 'set', `${veth}p`, 'netns', name]);
    await sh('ip', ['link', 'set', veth, 'master', bridge, 'up']);
    const inNs = (...a) => sh('ip', ['netns', 'exec', name, ...a]);
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'link', 'set', `${veth}p`, 'name', 'eth0');
    await inNs('ip', 'addr', 'add', `${address}/16`, 'dev', 'eth0');
    await inNs('ip', 'link', 'set', 'eth0', 'up');
    await inNs('ip', 'route', 'add', 'default', 'via', `${subnet}.0.1`);

    // The host's private mounts, then sshd in the foreground (its pid is the namespace holder for nsenter).
    const script = [
      `hostname ${name}`,
      `mount --bind ${join(dir, 'tmp')} /tmp`,
      'mkdir -p /opt/skydeck',
      `mount --bind ${join(dir, 'opt')} /opt/skydeck`,
      `mount --bind ${home} /home/${TEST_USER}`,
      'mkdir -p /root/.local',
      `mount --bind ${join(dir, 'rootlocal')} /root/.local`,
      `[ -f /root/.bashrc ] && mount --bind ${join(dir, 'empty')} /root/.bashrc`,
      `[ -f /root/.profile ] && mount --bind ${join(dir, 'empty')} /root/.profile`,
      `touch ${join(dir, 'mounted')}`,
      'exec sleep infinity',
    ].join('; ');
    const holder = spawn('ip', ['netns', 'exec', name, 'unshare', '--uts', '--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: 'ignore', detached: true });
    holder.unref();
    const t0 = Date.now();
    while (!existsSync(join(dir, 'mounted'))) {
      if (Date.now() - t0 > 10_000) throw new Error(`host ${name}: namespace setup did not finish`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The `sleep` that holds the namespaces: its pid is what nsenter targets.
    const nsPid = Number((await sh('pgrep', ['-P', String(holder.pid)], { allowFail: true })).stdout.trim().split('\n')[0]) || holder.pid;
    const enter = ['--target', String(nsPid), '--mount', '--uts', '--net'];
    const startSshd = async () => {
      await sh('nsenter', [...enter, '/usr/sbin/sshd', '-f', conf, '-E', join(dir, 'sshd.log')]);
      await waitPort(address, 22, 10_000);
    };
    await startSshd();
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
          encryptedKey: { privateKey: read(encKey), privateKeyPath: encKey, passphrase: encPass },
          otherKey: { privateKey: read(otherKey), privateKeyPath: otherKey },
        },
      },
      /** Runs a shell command inside the host (its mount, UTS and network namespaces). */
      exec: (cmd) => sh('nsenter', [...enter, 'sh', '-c', cmd], { allowFail: true }).then((r) => ({ code: r.code ?? 0, stdout: r.stdout, stderr: r.stderr })),
      /** The host is lost: every sshd process of it is killed (listener and sessions). */
      killSshd: async () => {
        for (const p of (await sh('ip', ['netns', 'pids', name])).stdout.split('\n').filter(Boolean)) {
          const comm = existsSync(`/proc/${p}/comm`) ? readFileSync(`/proc/${p}/comm`, 'utf8').trim() : '';
          if (comm.startsWith('sshd')) await sh('kill', ['-9', p], { allowFail: true });
        }
      },
      startSshd,
      /** A new host key (as after a reinstall): sshd restarts with it; answers the new fingerprint. */
      rotateHostKey: async () => {
        await host.killSshd();
        await keygen(hostKey);
        host.hostKeyFingerprint = fingerprintOf(`${hostKey}.pub`);
        await startSshd();
        return host.hostKeyFingerprint;
      },
      nsPid,
      holderPid: holder.pid,
    };
    if (withLibvirt) {
      const { startLibvirtd } = await import('./libvirtd.mjs');
      host.libvirtd = await startLibvirtd(host, i);
    }
    return host;
  };
  try {
    for (let i = 0; i < count; i += batch) {
      const group = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, k) => startOne(i + k)));
      hosts.push(...group);
    }
  } catch (e) {
    await cleanupStale(prefix);
    rmSync(keysDir, { recursive: true, force: true });
    lease?.release();
    throw e;
  }
  const startMs = Date.now() - started;
  return {
    hosts,
    bridge,
    startMs,
    keysDir,
    subnet,
    async stop() {
      for (const h of hosts) if (h.libvirtd) await h.libvirtd.stop().catch(() => {});
      await cleanupStale(prefix);
      rmSync(keysDir, { recursive: true, force: true });
      lease?.release();
    },
  };
}
