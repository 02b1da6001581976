import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RPC_HOST, RPC_INVALID_PARAMS, RPC_NOT_FOUND } from '@shared/agent/protocol';
import { buildBundle, Client, RpcFailure, startAgent, tempDir, type RunningAgent } from './testing';

/**
 * Pools and volumes. The test driver's pools do not touch files, so the agent is pointed (agent.configure) at a
 * test-driver node file whose dir pool targets a real temporary directory: qemu-img and the ISO writer then make real
 * files there, checked with qemu-img, xorriso and blkid.
 */
const tmp = tempDir('skd-vol-');
const poolDir = join(tmp.path, 'pool dir');
let agent: RunningAgent & { client: Client };
let c: Client;

async function rpcError(p: Promise<unknown>): Promise<RpcFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcFailure) return e;
    throw e;
  }
  throw new Error('expected an RPC error');
}

const qemuInfo = (path: string): { format: string; 'virtual-size': number; 'backing-filename'?: string } => JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' }));

beforeAll(async () => {
  mkdirSync(poolDir);
  writeFileSync(join(poolDir, 'known.img'), Buffer.alloc(1024 * 1024));
  writeFileSync(
    join(tmp.path, 'node.xml'),
    `<node>
  <pool type='dir'><name>tp</name><target><path>${poolDir}</path></target>
    <volume type='file'><name>known.img</name><capacity unit='bytes'>1048576</capacity><target><path>${poolDir}/known.img</path><format type='raw'/></target></volume>
  </pool>
</node>`,
  );
  const bundle = await buildBundle(tmp.path);
  agent = await startAgent(bundle, join(tmp.path, 'agent'), ['--metrics-interval', '60000']);
  c = agent.client;
});

afterAll(async () => {
  c?.close();
  await agent?.stop();
  tmp.cleanup();
});

describe('pools and volumes', () => {
  it('lists the default pools, then switches libvirt URI with agent.configure', async () => {
    expect((await c.call('pools.list', {})).map((p) => p.name)).toEqual(['default-pool']);
    expect(await c.call('agent.configure', { libvirtUri: `test://${join(tmp.path, 'node.xml')}` })).toEqual({ ok: true });
    expect((await c.call('agent.hello', { appVersion: 'x', protocol: 1 })).libvirtUri).toBe(`test://${join(tmp.path, 'node.xml')}`);
    expect(await c.call('pools.list', {})).toEqual([{ name: 'tp', type: 'dir', path: poolDir, active: true, capacityBytes: expect.any(Number), allocationBytes: expect.any(Number), availableBytes: expect.any(Number) }]);
    expect(await c.call('volumes.list', { pool: 'tp' })).toEqual([{ pool: 'tp', name: 'known.img', path: join(poolDir, 'known.img'), format: 'raw', capacityBytes: 1048576, allocationBytes: 1048576 }]);
    expect((await rpcError(c.call('volumes.list', { pool: 'nope' }))).code).toBe(RPC_NOT_FOUND);
  });

  it('creates qcow2 and raw volumes, overlays and copies, idempotently', async () => {
    const base = await c.call('volumes.create', { pool: 'tp', name: 'base.qcow2', sizeBytes: 64 * 1024 * 1024, format: 'qcow2' });
    expect(base).toMatchObject({ pool: 'tp', name: 'base.qcow2', path: join(poolDir, 'base.qcow2'), format: 'qcow2', capacityBytes: 64 * 1024 * 1024 });
    expect(qemuInfo(base.path)).toMatchObject({ format: 'qcow2', 'virtual-size': 64 * 1024 * 1024 });
    // Again: the file is complete (written under a temporary name, then renamed), so it is answered as is.
    const mtime = statSync(base.path).mtimeMs;
    expect(await c.call('volumes.create', { pool: 'tp', name: 'base.qcow2', sizeBytes: 64 * 1024 * 1024, format: 'qcow2' })).toEqual(base);
    expect(statSync(base.path).mtimeMs).toBe(mtime);

    const overlay = await c.call('volumes.create', { pool: 'tp', name: 'vm-vda.qcow2', sizeBytes: 128 * 1024 * 1024, format: 'qcow2', backingFile: base.path });
    expect(qemuInfo(overlay.path)).toMatchObject({ format: 'qcow2', 'virtual-size': 128 * 1024 * 1024, 'backing-filename': base.path });

    const copy = await c.call('volumes.create', { pool: 'tp', name: 'copy.raw', sizeBytes: 96 * 1024 * 1024, format: 'raw', copyFrom: base.path });
    expect(copy).toMatchObject({ format: 'raw', capacityBytes: 96 * 1024 * 1024 });
    expect(qemuInfo(copy.path).format).toBe('raw');

    const raw = await c.call('volumes.create', { pool: 'tp', name: 'empty.raw', sizeBytes: 1024 * 1024, format: 'raw' });
    expect(raw).toMatchObject({ format: 'raw', capacityBytes: 1024 * 1024 });
  });

  it('refuses names outside the pool and bad params', async () => {
    expect((await rpcError(c.raw('volumes.create', { pool: 'tp', name: '../escape.qcow2', sizeBytes: 1024, format: 'qcow2' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.raw('volumes.create', { pool: 'tp', name: 'x.vmdk', sizeBytes: 1024, format: 'vmdk' }))).body.message).toMatch(/format must be one of qcow2, raw/);
    expect((await rpcError(c.raw('volumes.create', { pool: 'tp', name: 'x.qcow2', sizeBytes: -1, format: 'qcow2' }))).code).toBe(RPC_INVALID_PARAMS);
    expect((await rpcError(c.call('volumes.create', { pool: 'tp', name: 'bad.qcow2', sizeBytes: 1024, format: 'qcow2', copyFrom: join(tmp.path, 'missing.img') }))).code).toBe(RPC_HOST);
    expect(existsSync(join(poolDir, 'bad.qcow2'))).toBe(false);
    expect((await rpcError(c.call('volumes.create', { pool: 'nope', name: 'a.qcow2', sizeBytes: 1024, format: 'qcow2' }))).code).toBe(RPC_NOT_FOUND);
  });

  it('deletes volumes', async () => {
    expect(await c.call('volumes.delete', { pool: 'tp', name: 'empty.raw' })).toEqual({ ok: true });
    expect(existsSync(join(poolDir, 'empty.raw'))).toBe(false);
    expect((await rpcError(c.call('volumes.delete', { pool: 'tp', name: 'empty.raw' }))).code).toBe(RPC_NOT_FOUND);
  });

  it('writes a NoCloud seed ISO that other tools read back', async () => {
    const userData = '#cloud-config\nusers:\n  - name: ops\n    passwd: "$6$hash"\n' + 'write_files: []\n'.repeat(300);
    const metaData = 'instance-id: g-123\nlocal-hostname: web-1\n';
    const networkConfig = 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n';
    const v = await c.call('volumes.cloudInit', { pool: 'tp', name: 'web-1-cidata.iso', userData, metaData, networkConfig });
    expect(v).toMatchObject({ pool: 'tp', name: 'web-1-cidata.iso', path: join(poolDir, 'web-1-cidata.iso'), format: 'raw' });
    expect(v.capacityBytes % 2048).toBe(0);
    expect(statSync(v.path).mode & 0o777).toBe(0o600);

    // Joliet names as cloud-init sees them, and the primary (ISO 9660) names.
    const ls = execFileSync('xorriso', ['-indev', v.path, '-ls', '/'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ls.split('\n').filter((l) => l.startsWith("'"))).toEqual(["'meta-data'", "'network-config'", "'user-data'"]);
    const ecma = execFileSync('xorriso', ['-read_fs', 'ecma119', '-indev', v.path, '-ls', '/'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ecma.split('\n').filter((l) => l.startsWith("'"))).toEqual(["'META-DATA'", "'NETWORK-CONFIG'", "'USER-DATA'"]);
    const out = join(tmp.path, 'extracted');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', v.path, '-extract', '/', out], { stdio: 'ignore' });
    expect(readFileSync(join(out, 'user-data'), 'utf8')).toBe(userData);
    expect(readFileSync(join(out, 'meta-data'), 'utf8')).toBe(metaData);
    expect(readFileSync(join(out, 'network-config'), 'utf8')).toBe(networkConfig);
    expect(execFileSync('blkid', ['-p', '-o', 'export', v.path], { encoding: 'utf8' })).toMatch(/^LABEL=cidata$/m);

    // Rewritten whole on a second call (new content, no network-config).
    await c.call('volumes.cloudInit', { pool: 'tp', name: 'web-1-cidata.iso', userData: '#cloud-config\n', metaData });
    const ls2 = execFileSync('xorriso', ['-indev', v.path, '-ls', '/'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ls2.split('\n').filter((l) => l.startsWith("'"))).toEqual(["'meta-data'", "'user-data'"]);
  });
});
