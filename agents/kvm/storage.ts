import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RPC_NOT_FOUND, type StoragePoolInfo, type VolumeInfo } from '@shared/agent/protocol';
import { AgentError, hostError, invalidParams } from './errors';
import { isNotFound, type Libvirt } from './libvirt';
import { writeIso9660 } from './iso9660';
import { keyValues, lines, netList, poolList, volList } from './parse';
import { convertImage, createImage, imageInfo } from './qemu-img';
import { attr, child, parseXml, text } from './xml';

/** Pool types whose volumes are files in a directory: there the agent makes images itself with qemu-img. */
const FILE_POOLS = ['dir', 'fs', 'netfs'];

const bytes = (node: unknown): number => Number(text(node as never) ?? 0);

export interface NetworkInfo {
  name: string;
  bridge: string | null;
  active: boolean;
  forward: string | null;
  autostart: boolean;
}

/** Storage pools, volumes, networks and versions as libvirt reports them; volumes made with qemu-img. */
export class Storage {
  constructor(private readonly lv: Libvirt) {}

  async pools(signal?: AbortSignal): Promise<StoragePoolInfo[]> {
    const rows = poolList(await this.lv.virsh(['pool-list', '--all'], { ...(signal ? { signal } : {}) }));
    const out: StoragePoolInfo[] = [];
    for (const r of rows) {
      try {
        out.push({ ...(await this.pool(r.name, signal)), active: r.active });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return out;
  }

  async pool(name: string, signal?: AbortSignal): Promise<StoragePoolInfo> {
    const p = child(parseXml(await this.lv.virsh(['pool-dumpxml', '--pool', name], { ...(signal ? { signal } : {}) })), 'pool');
    return {
      name: text(p, 'name') ?? name,
      type: attr(p, 'type') ?? 'unknown',
      path: text(child(p, 'target'), 'path'),
      active: true,
      capacityBytes: bytes(child(p, 'capacity')),
      allocationBytes: bytes(child(p, 'allocation')),
      availableBytes: bytes(child(p, 'available')),
    };
  }

  async volumes(pool: string, signal?: AbortSignal): Promise<VolumeInfo[]> {
    const rows = volList(await this.lv.virsh(['vol-list', '--pool', pool], { ...(signal ? { signal } : {}) }));
    const out: VolumeInfo[] = [];
    for (const r of rows) {
      try {
        const v = child(parseXml(await this.lv.virsh(['vol-dumpxml', '--pool', pool, '--vol', r.name], { ...(signal ? { signal } : {}) })), 'volume');
        out.push({
          pool,
          name: text(v, 'name') ?? r.name,
          path: text(child(v, 'target'), 'path') ?? r.path,
          format: attr(child(child(v, 'target'), 'format'), 'type'),
          capacityBytes: bytes(child(v, 'capacity')),
          allocationBytes: bytes(child(v, 'allocation')),
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return out;
  }

  /** The directory of a file-backed pool, for a volume name that must stay inside it. */
  private async fileTarget(poolName: string, name: string, signal?: AbortSignal): Promise<{ pool: StoragePoolInfo; path: string }> {
    if (!name || name !== basename(name) || name === '.' || name === '..' || name.startsWith('.')) throw invalidParams('name must be a plain file name');
    const pool = await this.pool(poolName, signal);
    if (!FILE_POOLS.includes(pool.type) || !pool.path) throw hostError(`pool ${poolName} is a ${pool.type} pool: only directory pools hold files the agent can write`);
    return { pool, path: join(pool.path, name) };
  }

  private async refresh(pool: string): Promise<void> {
    await this.lv.virsh(['pool-refresh', '--pool', pool]).catch(() => undefined);
  }

  private async volumeInfo(pool: string, name: string, path: string, signal?: AbortSignal): Promise<VolumeInfo> {
    try {
      const i = await imageInfo(path, signal);
      return { pool, name, path, format: i.format, capacityBytes: i.virtualSize, allocationBytes: i.actualSize };
    } catch {
      const st = await stat(path);
      return { pool, name, path, format: null, capacityBytes: st.size, allocationBytes: st.blocks * 512 };
    }
  }

  /**
   * qemu-img create (or convert for copyFrom) in the pool's directory. The image is written under a temporary name
   * and renamed, so an existing file is always complete: creating it again answers it as it is (idempotent).
   */
  async createVolume(o: { pool: string; name: string; sizeBytes: number; format: 'qcow2' | 'raw'; backingFile?: string; copyFrom?: string }, signal?: AbortSignal): Promise<VolumeInfo> {
    const { path } = await this.fileTarget(o.pool, o.name, signal);
    if (await exists(path)) return this.volumeInfo(o.pool, o.name, path, signal);
    const partial = join(path, '..', `.${o.name}.${randomBytes(4).toString('hex')}.partial`);
    try {
      if (o.copyFrom) {
        await convertImage({ from: o.copyFrom, path: partial, format: o.format, sizeBytes: o.sizeBytes, ...(signal ? { signal } : {}) });
      } else if (o.backingFile) {
        if (o.format !== 'qcow2') throw invalidParams('a backing file needs format qcow2');
        const backing = await imageInfo(o.backingFile, signal);
        await createImage({ path: partial, format: 'qcow2', sizeBytes: Math.max(o.sizeBytes, backing.virtualSize), backingFile: o.backingFile, backingFormat: backing.format ?? 'raw', ...(signal ? { signal } : {}) });
      } else {
        await createImage({ path: partial, format: o.format, sizeBytes: o.sizeBytes, ...(signal ? { signal } : {}) });
      }
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
    await this.refresh(o.pool);
    return this.volumeInfo(o.pool, o.name, path, signal);
  }

  /** vol-delete where libvirt knows the volume, else the file in the pool's directory. */
  async deleteVolume(pool: string, name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.lv.virsh(['vol-delete', '--pool', pool, '--vol', name], { ...(signal ? { signal } : {}) });
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const { path } = await this.fileTarget(pool, name, signal); // NOT_FOUND here when the pool itself is missing
    if (!(await exists(path))) throw new AgentError(RPC_NOT_FOUND, `no volume ${name} in pool ${pool}`);
    await rm(path, { force: true });
    await this.refresh(pool);
  }

  /** A NoCloud seed ISO (label cidata), rewritten whole on every call. */
  async cloudInit(o: { pool: string; name: string; userData: string; metaData: string; networkConfig?: string }, signal?: AbortSignal): Promise<VolumeInfo> {
    const { path } = await this.fileTarget(o.pool, o.name, signal);
    const files = [
      { name: 'user-data', data: Buffer.from(o.userData, 'utf8') },
      { name: 'meta-data', data: Buffer.from(o.metaData, 'utf8') },
      ...(o.networkConfig !== undefined ? [{ name: 'network-config', data: Buffer.from(o.networkConfig, 'utf8') }] : []),
    ];
    const partial = join(path, '..', `.${o.name}.${randomBytes(4).toString('hex')}.partial`);
    try {
      // 0600: user-data may hold password hashes or keys; qemu runs as root or reads it through libvirt's labelling.
      await writeFile(partial, writeIso9660({ volumeId: 'cidata', files }), { mode: 0o600 });
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
    await this.refresh(o.pool);
    return { pool: o.pool, name: o.name, path, format: 'raw', ...(await sizes(path)) };
  }

  async networks(signal?: AbortSignal): Promise<NetworkInfo[]> {
    const rows = netList(await this.lv.virsh(['net-list', '--all'], { ...(signal ? { signal } : {}) }));
    const out: NetworkInfo[] = [];
    for (const r of rows) {
      const n = child(parseXml(await this.lv.virsh(['net-dumpxml', '--network', r.name]).catch(() => '<network/>')), 'network');
      out.push({ name: r.name, bridge: attr(child(n, 'bridge'), 'name'), active: r.active, forward: attr(child(n, 'forward'), 'mode') ?? (child(n, 'forward') ? 'nat' : null), autostart: r.autostart });
    }
    return out;
  }

  /** libvirt's and the hypervisor's versions ("9.0.0", "QEMU 7.2.0"). */
  async version(signal?: AbortSignal): Promise<{ libvirt: string | null; hypervisor: string | null }> {
    const kv = keyValues(await this.lv.virsh(['version'], { ...(signal ? { signal } : {}) }));
    return { libvirt: kv.get('using library')?.replace(/^libvirt\s+/i, '') ?? null, hypervisor: kv.get('running hypervisor') ?? null };
  }

  /** Names of the pools' target directories, for free-space metrics. */
  async poolPaths(): Promise<{ name: string; path: string }[]> {
    const names = lines(await this.lv.virsh(['pool-list', '--name']));
    const out: { name: string; path: string }[] = [];
    for (const name of names) {
      const p = await this.pool(name).catch(() => null);
      if (p?.path && FILE_POOLS.includes(p.type)) out.push({ name, path: p.path });
    }
    return out;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function sizes(path: string): Promise<{ capacityBytes: number; allocationBytes: number }> {
  const st = await stat(path);
  return { capacityBytes: st.size, allocationBytes: st.blocks * 512 };
}
