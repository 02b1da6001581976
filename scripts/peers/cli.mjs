#!/usr/bin/env node
// Test peers by hand or from CI (as root):
//   node scripts/peers/cli.mjs up [--count 3] [--libvirt | --libvirt N] [--prefix skdcli] [--subnet 10.213] [--no-password]
//       starts the hosts, prints them as JSON on stdout, stays until SIGINT/SIGTERM, then removes everything
//   node scripts/peers/cli.mjs down [--prefix skdcli | --orphans]
//       removes what a killed `up` (or test run) left: one prefix, or every run whose owning process is gone
//   node scripts/peers/cli.mjs guest [--check] [--cache-dir DIR]
//       builds (or finds cached) the tiny guest and prints its paths; --check boots it (kernel and ISO) and powers it off
import { parseArgs } from 'node:util';
import { cleanupOrphans, cleanupStale, startSshHosts } from './ssh-hosts.mjs';
import { buildTinyGuest, checkTinyGuest } from './guest-image.mjs';

const USAGE = 'usage: cli.mjs up [--count N] [--libvirt [N]] [--prefix P] [--subnet A.B] [--no-password] | down [--prefix P | --orphans] | guest [--check] [--cache-dir DIR]';
const [command, ...rest] = process.argv.slice(2);
// `--libvirt` alone means every host; `--libvirt N` the first N.
const argv = rest.flatMap((a, i) => (a === '--libvirt' && !/^\d+$/.test(rest[i + 1] ?? '') ? ['--libvirt', 'all'] : [a]));
const { values } = parseArgs({
  args: argv,
  options: {
    count: { type: 'string', default: '3' },
    libvirt: { type: 'string' },
    prefix: { type: 'string', default: 'skdcli' },
    subnet: { type: 'string' },
    'no-password': { type: 'boolean', default: false },
    orphans: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    'cache-dir': { type: 'string' },
  },
});
const err = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);

if (command === 'up') {
  const count = Number(values.count);
  const withLibvirt = values.libvirt === undefined ? false : values.libvirt === 'all' ? true : Number(values.libvirt);
  const peers = await startSshHosts({ count, prefix: values.prefix, ...(values.subnet ? { subnet: values.subnet } : {}), withLibvirt, passwordAuth: !values['no-password'] });
  let stopping = false;
  const stop = async (/** @type {string} */ sig) => {
    if (stopping) return;
    stopping = true;
    err(`${sig}: stopping ${peers.hosts.length} hosts…`);
    await peers.stop();
    err('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  const describe = {
    subnet: peers.subnet,
    bridge: peers.bridge,
    startMs: peers.startMs,
    keys: { test: peers.hosts[0]?.users.test.privateKeyPath, testEncrypted: peers.hosts[0]?.users.test.encryptedKey.privateKeyPath, other: peers.hosts[0]?.users.test.otherKey.privateKeyPath, root: peers.hosts[0]?.users.root.privateKeyPath },
    hosts: peers.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      port: h.port,
      hostKeyFingerprint: h.hostKeyFingerprint,
      root: h.root,
      nsPid: h.nsPid,
      users: {
        root: { username: 'root', privateKeyPath: h.users.root.privateKeyPath },
        test: { username: h.users.test.username, password: h.users.test.password, privateKeyPath: h.users.test.privateKeyPath, encryptedKeyPath: h.users.test.encryptedKey.privateKeyPath, passphrase: h.users.test.encryptedKey.passphrase },
      },
      ...(h.libvirtd ? { libvirtd: { uri: h.libvirtd.uri, vncPortMin: h.libvirtd.vncPortMin, vncPortMax: h.libvirtd.vncPortMax, startMs: h.libvirtd.startMs } } : {}),
    })),
    try: peers.hosts[0] ? `ssh -i ${peers.hosts[0].users.root.privateKeyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@${peers.hosts[0].address} hostname` : '',
  };
  process.stdout.write(`${JSON.stringify(describe, null, 2)}\n`);
  err(`${peers.hosts.length} hosts up in ${peers.startMs} ms; Ctrl-C (SIGINT) or SIGTERM stops them`);
  setInterval(() => {}, 1 << 30); // stay until a signal
} else if (command === 'down') {
  if (values.orphans) {
    const removed = await cleanupOrphans();
    err(removed.length ? `removed: ${removed.join(' ')}` : 'no orphaned runs');
  } else {
    await cleanupStale(values.prefix);
    err(`removed what prefix ${values.prefix} left (if anything)`);
  }
} else if (command === 'guest') {
  const g = await buildTinyGuest({ ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}), log: (l) => err(l) });
  process.stdout.write(`${JSON.stringify(g, null, 2)}\n`);
  if (values.check) {
    for (const via of /** @type {const} */ (['kernel', 'iso'])) {
      if (via === 'iso' && !g.iso) continue;
      const r = await checkTinyGuest(g, { via });
      err(`${via}: banner after ${r.bootMs} ms, powered off ${r.powerOffMs} ms after system_powerdown`);
    }
  }
} else {
  err(USAGE);
  process.exit(2);
}
