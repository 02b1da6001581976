import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DomainInfo, HostFacts } from '@shared/agent/protocol';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { adoptDomain, adoptHost, guestExternalId, guestStatusOf } from './adopt';

let dir: string;
let opened: OpenedDatabase;
let db: Database.Database;
const T = '2026-11-27T00:00:00.000Z';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skydeck-adopt-'));
  opened = openDatabase(dir, 't');
  db = opened.db;
  for (const id of ['host-a', 'host-b']) {
    db.prepare(`INSERT INTO hosts (id, name, provider, status, created_at, updated_at, address) VALUES (?, ?, 'kvm', 'online', ?, ?, '10.0.0.1')`).run(id, id, T, T);
    db.prepare(`INSERT INTO host_links (host_id, address, port, username, auth_method, created_at, updated_at) VALUES (?, '10.0.0.1', 22, 'root', 'key', ?, ?)`).run(id, T, T);
  }
});
afterEach(() => {
  opened.close();
  rmSync(dir, { recursive: true, force: true });
});

const GIB = 1024 ** 3;
const facts: HostFacts = {
  hostname: 'kvm1',
  os: { id: 'debian', name: 'Debian GNU/Linux', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  kernel: '6.1.0',
  arch: 'x86_64',
  cpu: { model: 'EPYC', sockets: 1, cores: 8, threads: 2, mhz: 2800, flags: [] },
  memoryMb: 65536,
  kvm: false,
  libvirt: { uri: 'qemu:///system', version: '9.0.0', hypervisorVersion: '7.2.0', reachable: true, error: null },
  qemu: { binary: '/usr/bin/qemu-system-x86_64', version: '7.2.0' },
  disks: [],
  pools: [{ name: 'default', type: 'dir', path: '/var/lib/libvirt/images', active: true, capacityBytes: 500 * GIB, allocationBytes: 100 * GIB, availableBytes: 400 * GIB }],
  bridges: [{ name: 'br0', addresses: [], up: true }],
  networks: [],
  uptimeSeconds: 100,
  loadAvg: [0, 0, 0],
};

function dom(name: string, uuid: string, o: Partial<DomainInfo> = {}): DomainInfo {
  return {
    uuid, name, state: 'running', reason: 'booted', persistent: true, autostart: false, vcpu: 2, maxVcpu: 2, memoryMb: 2048, maxMemoryMb: 2048, virtType: 'qemu', arch: 'x86_64', machine: 'pc', osType: 'hvm', bootOrder: ['hd'],
    disks: [
      { target: 'vda', device: 'disk', bus: 'virtio', source: `/var/lib/libvirt/images/${name}.qcow2`, format: 'qcow2', capacityBytes: 20 * GIB, readonly: false },
      { target: 'sda', device: 'cdrom', bus: 'sata', source: null, format: null, capacityBytes: null, readonly: true },
    ],
    nics: [{ mac: `52:54:00:00:00:${uuid.slice(-2)}`, type: 'bridge', source: 'br0', model: 'virtio', target: 'vnet0', addresses: [] }],
    graphics: [{ type: 'vnc', port: 5901, listen: '127.0.0.1', autoport: true, passwordSet: false }],
    serialPty: null, description: null, skydeckGuestId: null, snapshotCount: 0,
    ...o,
  };
}

const guests = (hostId: string) => db.prepare(`SELECT * FROM guests WHERE host_id = ? ORDER BY name`).all(hostId) as Record<string, unknown>[];

describe('adopting a host', () => {
  it('imports facts, pools, domains with disks and NICs; the same libvirt uuid on two hosts stays two guests', () => {
    const a = adoptHost(db, 'host-a', { facts, domains: [dom('web', 'u-01'), dom('db', 'u-02', { state: 'shutoff', graphics: [{ type: 'vnc', port: null, listen: null, autoport: true, passwordSet: false }] })], snapshots: new Map([['u-01', [{ name: 's1', createdAt: T, state: 'running', current: true, description: null, parent: null }]]]), agentVersion: '0.1.0' }, T);
    expect(a.guests.inserted).toBe(2);
    adoptHost(db, 'host-b', { facts, domains: [dom('web', 'u-01')], snapshots: new Map(), agentVersion: '0.1.0' }, T);
    const host = db.prepare('SELECT * FROM hosts WHERE id = ?').get('host-a') as Record<string, unknown>;
    expect(host).toMatchObject({ cpu_model: 'EPYC', cpu_cores: 16, memory_mb: 65536, storage_gb: 500, agent_version: '0.1.0', guest_count: 2, cpu_allocated: 4, memory_allocated_mb: 4096 });
    const ga = guests('host-a');
    expect(ga.map((g) => [g.name, g.status, g.vnc_port, g.disk_gb])).toEqual([['db', 'ready', null, 20], ['web', 'running', 5901, 20]]);
    expect(guests('host-b')).toHaveLength(1);
    expect(ga[1]!.external_id).toBe(guestExternalId('host-a', 'u-01'));
    const disks = db.prepare(`SELECT d.name, d.size_gb, s.name AS pool FROM disks d JOIN storages s ON s.id = d.storage_id WHERE d.guest_id = ?`).all(ga[1]!.id) as unknown[];
    expect(disks).toEqual([{ name: 'web-vda', size_gb: 20, pool: 'default' }]); // the CD-ROM is not a disk
    expect(db.prepare(`SELECT name, status FROM snapshots WHERE guest_id = ?`).all(ga[1]!.id)).toEqual([{ name: 's1', status: 'current' }]);
    expect(db.prepare(`SELECT value FROM tags WHERE kind = 'host' AND resource_id = 'host-a' AND key = 'virtualization'`).get()).toEqual({ value: 'tcg' });
  });

  it('reconciles drift, keeps a task’s transitional status and Skydeck’s addresses, and marks what vanished', async () => {
    const tick = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return new Date().toISOString();
    };
    adoptHost(db, 'host-a', { facts, domains: [dom('web', 'u-01', { state: 'shutoff' }), dom('db', 'u-02')], snapshots: new Map(), agentVersion: null }, await tick());
    const [dbGuest, web] = guests('host-a');
    db.prepare(`UPDATE guests SET status = 'stopping' WHERE id = ?`).run(dbGuest!.id);
    db.prepare(`UPDATE guest_nics SET ip = '10.1.0.9', network_id = NULL WHERE guest_id = ?`).run(web!.id);
    // Someone starts "web" from the host's shell; "db" is being stopped by a task; a third VM appears; later "db" is undefined.
    const later = await tick();
    adoptHost(db, 'host-a', { facts, domains: [dom('web', 'u-01', { state: 'running' }), dom('db', 'u-02'), dom('new', 'u-03')], snapshots: new Map(), agentVersion: null }, later);
    expect(guests('host-a').map((g) => [g.name, g.status])).toEqual([['db', 'stopping'], ['new', 'running'], ['web', 'running']]);
    expect(db.prepare('SELECT ip FROM guest_nics WHERE guest_id = ?').get(web!.id)).toEqual({ ip: '10.1.0.9' });
    const evenLater = await tick();
    const r = adoptHost(db, 'host-a', { facts, domains: [dom('web', 'u-01'), dom('new', 'u-03')], snapshots: new Map(), agentVersion: null }, evenLater);
    expect(r.guests.vanished).toBe(1);
    expect(guests('host-a').find((g) => g.name === 'db')!.status).toBe('vanished');
  });

  it('links a domain Skydeck defined back to its row by the guest id in its metadata', () => {
    db.prepare(`INSERT INTO guests (id, name, provider, status, created_at, updated_at, host_id) VALUES ('vm-mine', 'mine', 'kvm', 'creating', ?, ?, 'host-a')`).run(T, T);
    adoptHost(db, 'host-a', { facts, domains: [dom('mine', 'u-09', { skydeckGuestId: 'vm-mine', state: 'shutoff' })], snapshots: new Map(), agentVersion: null }, T);
    const rows = guests('host-a');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'vm-mine', external_id: guestExternalId('host-a', 'u-09'), status: 'creating' });
    const id = adoptDomain(db, 'host-a', dom('mine', 'u-09', { disks: [] }));
    expect(id).toBe('vm-mine');
    expect(guests('host-a')[0]!.status).toBe('running');
    expect(db.prepare('SELECT count(*) AS n FROM disks WHERE guest_id = ?').get('vm-mine')).toEqual({ n: 0 });
  });

  it('records which wires reach the host from its bridges, for the scheduler', () => {
    db.prepare(`INSERT INTO wires (id, name, provider, status, created_at, updated_at) VALUES ('w1', 'br0', 'local', 'ready', ?, ?), ('w2', 'br9', 'local', 'ready', ?, ?)`).run(T, T, T, T);
    adoptHost(db, 'host-a', { facts, domains: [], snapshots: new Map(), agentVersion: null }, T);
    expect(db.prepare('SELECT wire_id, bridge FROM host_wires WHERE host_id = ?').all('host-a')).toEqual([{ wire_id: 'w1', bridge: 'br0' }]);
    adoptHost(db, 'host-a', { facts: { ...facts, bridges: [] }, domains: [], snapshots: new Map(), agentVersion: null }, T);
    expect(db.prepare('SELECT count(*) AS n FROM host_wires WHERE host_id = ?').get('host-a')).toEqual({ n: 0 });
  });

  it('maps every libvirt state', () => {
    expect(['running', 'blocked', 'paused', 'pmsuspended', 'shutdown', 'shutoff', 'crashed', 'unknown'].map((s) => guestStatusOf(s as never))).toEqual(['running', 'running', 'suspended', 'suspended', 'stopping', 'ready', 'ready', 'unknown']);
  });
});
