import { lstat, rm } from 'node:fs/promises';
import { RPC_NOT_FOUND, RPC_STATE, type DomainInfo, type DomainState, type SnapshotInfo } from '@shared/agent/protocol';
import { addDevice, diskElement, domainIdentity, interfaceElement, parseDomainXml, removeDisk, removeInterface, setDiskSource } from './domain-xml';
import { AgentError, checkAborted, invalidParams, sleep, timedOut } from './errors';
import { domainKey, isNotFound, isUnsupported, type DomainRef, type Libvirt } from './libvirt';
import { domBlkInfoAll, domIfAddr, domState, keyValues, lines } from './parse';
import { imageInfo } from './qemu-img';
import { hasControlChars } from './virsh';
import { child, parseXml, text, xmlEscape } from './xml';

/** States in which the domain has a live (QEMU) instance: device changes then go --live as well as --config. */
const ACTIVE: DomainState[] = ['running', 'blocked', 'paused', 'pmsuspended', 'shutdown'];
const isActive = (s: DomainState): boolean => ACTIVE.includes(s);

const LONG = 10 * 60_000;

/** Domain operations over one libvirt connection. Each answers the domain as it is afterwards (DomainInfo). */
export class Domains {
  constructor(private readonly lv: Libvirt) {}

  private v(args: string[], signal?: AbortSignal, timeoutMs?: number): Promise<string> {
    return this.lv.virsh(args, { ...(signal ? { signal } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  }

  async state(ref: DomainRef, signal?: AbortSignal): Promise<{ state: DomainState; reason: string | null }> {
    return domState(await this.v(['domstate', '--domain', domainKey(ref), '--reason'], signal));
  }

  async list(signal?: AbortSignal): Promise<DomainInfo[]> {
    const uuids = lines(await this.v(['list', '--all', '--uuid'], signal));
    // All at once: virsh still runs them one by one, but it never waits for this process between two of them.
    const all = await Promise.all(
      uuids.map((uuid) =>
        this.get({ uuid }, signal).catch((e: unknown) => {
          if (isNotFound(e)) return null; // undefined meanwhile
          throw e;
        }),
      ),
    );
    return all.filter((d): d is DomainInfo => d !== null);
  }

  async get(ref: DomainRef, signal?: AbortSignal): Promise<DomainInfo> {
    // --security-info: only to tell whether a VNC password is set (the XML is not passed on).
    const x = parseDomainXml(await this.v(['dumpxml', '--domain', domainKey(ref), '--security-info'], signal));
    const id = x.uuid || domainKey(ref);
    const [st, info, snaps, blk] = await Promise.all([
      this.v(['domstate', '--domain', id, '--reason'], signal).then(domState),
      this.v(['dominfo', '--domain', id], signal).then(keyValues),
      this.v(['snapshot-list', '--domain', id, '--name'], signal).then(lines, () => []),
      x.disks.length ? this.v(['domblkinfo', '--domain', id, '--all'], signal).then(domBlkInfoAll, () => new Map<string, number | null>()) : new Map<string, number | null>(),
    ]);
    if (isActive(st.state) && x.nics.length) {
      const addrs = await this.addresses(id, signal);
      for (const n of x.nics) n.addresses = addrs.get(n.mac.toLowerCase()) ?? [];
    }
    for (const d of x.disks) d.capacityBytes = d.source ? (blk.get(d.target) ?? null) : null;
    return {
      ...x,
      state: st.state,
      reason: st.reason,
      persistent: info.get('persistent') === 'yes',
      autostart: info.get('autostart') === 'enable',
      snapshotCount: snaps.length,
    };
  }

  /** Guest addresses, best effort: DHCP leases of libvirt networks, else the host's ARP table. */
  private async addresses(id: string, signal?: AbortSignal): Promise<Map<string, string[]>> {
    for (const source of ['lease', 'arp']) {
      try {
        const m = domIfAddr(await this.v(['domifaddr', '--domain', id, '--source', source], signal));
        if (m.size) return m;
      } catch {
        // no leases, no permission, or the driver cannot tell: none known
      }
    }
    return new Map();
  }

  async define(xml: string, signal?: AbortSignal): Promise<DomainInfo> {
    let ident: { name: string; uuid: string | null };
    try {
      ident = domainIdentity(xml);
    } catch (e) {
      throw invalidParams(`xml: ${(e as Error).message}`);
    }
    if (!ident.uuid) {
      // Without a uuid libvirt would refuse a second define of the same name; with the existing one's uuid it is a
      // redefinition, which keeps a resumed "define" step idempotent.
      const existing = await this.v(['domuuid', '--domain', ident.name], signal).then((s) => s.trim(), () => '');
      if (existing) xml = xml.replace(/<domain\b[^>]*>/, (open) => `${open}<uuid>${existing}</uuid>`);
    }
    await this.lv.withTempFile(xml, (file) => this.v(['define', '--file', file], signal));
    return this.get(ident.uuid ? { uuid: ident.uuid } : { name: ident.name }, signal);
  }

  /** Idempotent: a domain already running is answered as it is. */
  async start(ref: DomainRef, signal?: AbortSignal): Promise<DomainInfo> {
    const { state } = await this.state(ref, signal);
    if (state !== 'running' && state !== 'blocked') await this.v(['start', '--domain', domainKey(ref)], signal, LONG);
    return this.get(ref, signal);
  }

  /** ACPI shutdown, then waits for "shut off"; a domain already off is answered as it is. */
  async shutdown(ref: DomainRef, timeoutMs = 120_000, signal?: AbortSignal): Promise<DomainInfo> {
    const deadline = Date.now() + timeoutMs;
    let { state } = await this.state(ref, signal);
    if (state !== 'shutoff') {
      await this.v(['shutdown', '--domain', domainKey(ref)], signal);
      while ((state = (await this.state(ref, signal)).state) !== 'shutoff') {
        if (Date.now() >= deadline) throw timedOut(`the domain did not shut down within ${Math.round(timeoutMs / 1000)} s (it is ${state})`);
        await sleep(Math.min(500, Math.max(10, deadline - Date.now())), signal);
      }
    }
    return this.get(ref, signal);
  }

  /** Force off; a domain already off is answered as it is. */
  async destroy(ref: DomainRef, signal?: AbortSignal): Promise<DomainInfo> {
    const { state } = await this.state(ref, signal);
    if (state !== 'shutoff') await this.v(['destroy', '--domain', domainKey(ref)], signal);
    return this.get(ref, signal);
  }

  /** reboot, reset, suspend, resume: libvirt's own rules (resume of a running domain is RPC_STATE). */
  async simple(command: 'reboot' | 'reset' | 'suspend' | 'resume', ref: DomainRef, signal?: AbortSignal): Promise<DomainInfo> {
    await this.v([command, '--domain', domainKey(ref)], signal);
    return this.get(ref, signal);
  }

  async undefine(ref: DomainRef, removeStorage: boolean, signal?: AbortSignal): Promise<void> {
    const xml = await this.v(['dumpxml', '--domain', domainKey(ref), '--inactive'], signal);
    const x = parseDomainXml(xml);
    const { state } = await this.state({ uuid: x.uuid }, signal);
    if (removeStorage && isActive(state)) throw new AgentError(RPC_STATE, 'stop the domain before removing its storage');
    const args = ['undefine', '--domain', x.uuid, '--snapshots-metadata', '--managed-save'];
    // Only for UEFI guests: drivers without NVRAM support reject the flag.
    if (/<nvram\b/.test(xml)) args.push('--nvram');
    await this.v(args, signal);
    if (!removeStorage) return;
    for (const d of x.disks) {
      if (d.device !== 'disk' || !d.source?.startsWith('/')) continue;
      checkAborted(signal);
      try {
        await this.v(['vol-delete', '--vol', d.source], signal);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        // Not a volume libvirt knows (no pool covers it): a plain file is removed; devices are left alone.
        const st = await lstat(d.source).catch(() => null);
        if (st?.isFile()) await rm(d.source, { force: true });
      }
    }
  }

  /** vCPUs and memory in the persistent config, and live where libvirt allows it (best effort). */
  async setResources(ref: DomainRef, vcpu: number | undefined, memoryMb: number | undefined, signal?: AbortSignal): Promise<DomainInfo> {
    const cur = await this.get(ref, signal);
    const id = cur.uuid;
    const live = isActive(cur.state);
    if (vcpu !== undefined) {
      // Raise the maximum before the count, lower the count before the maximum: libvirt keeps count <= maximum.
      const setMax = (): Promise<string> => this.v(['setvcpus', '--domain', id, '--count', String(vcpu), '--config', '--maximum'], signal);
      const setCount = (): Promise<string> => this.v(['setvcpus', '--domain', id, '--count', String(vcpu), '--config'], signal);
      if (vcpu > cur.maxVcpu) {
        await setMax();
        await setCount();
      } else {
        await setCount();
        if (vcpu < cur.maxVcpu) await setMax();
      }
      if (live) await this.v(['setvcpus', '--domain', id, '--count', String(vcpu), '--live'], signal).catch(() => undefined);
    }
    if (memoryMb !== undefined) {
      const kib = String(memoryMb * 1024);
      const setMax = (): Promise<string> => this.v(['setmaxmem', '--domain', id, '--size', kib, '--config'], signal);
      const setMem = (): Promise<string> => this.v(['setmem', '--domain', id, '--size', kib, '--config'], signal);
      if (memoryMb > cur.maxMemoryMb) {
        await setMax();
        await setMem();
      } else {
        await setMem();
        if (memoryMb < cur.maxMemoryMb) await setMax();
      }
      if (live) await this.v(['setmem', '--domain', id, '--size', kib, '--live'], signal).catch(() => undefined);
    }
    return this.get(ref, signal);
  }

  /**
   * A device change: virsh's own command with --config (and --live when the domain runs); where the driver has no
   * device API, the same change made to the inactive XML and defined again (config only).
   */
  private async deviceChange(ref: DomainRef, args: (flags: string[]) => string[], editXml: (xml: string) => string | null, signal?: AbortSignal): Promise<DomainInfo> {
    const { state } = await this.state(ref, signal);
    const flags = isActive(state) ? ['--config', '--live'] : ['--config'];
    try {
      await this.v(args(flags), signal);
    } catch (e) {
      if (!isUnsupported(e)) throw e;
      // --security-info keeps a VNC password in the definition we write back.
      const xml = await this.v(['dumpxml', '--domain', domainKey(ref), '--inactive', '--security-info'], signal);
      const edited = editXml(xml);
      if (edited === null) throw new AgentError(RPC_NOT_FOUND, 'no such device in the domain');
      await this.lv.withTempFile(edited, (file) => this.v(['define', '--file', file], signal));
    }
    return this.get(ref, signal);
  }

  async attachDisk(ref: DomainRef, o: { source: string; target: string; format?: string; device?: 'disk' | 'cdrom'; bus?: string }, signal?: AbortSignal): Promise<DomainInfo> {
    const device = o.device ?? 'disk';
    const format = o.format ?? (await imageInfo(o.source, signal).then((i) => i.format, () => null)) ?? 'raw';
    const bus = o.bus ?? defaultBus(o.target, device);
    const cur = await this.get(ref, signal);
    if (cur.disks.some((d) => d.target === o.target)) throw new AgentError(RPC_STATE, `the domain already has a disk ${o.target}`);
    return this.deviceChange(
      ref,
      (flags) => ['attach-disk', '--domain', cur.uuid, '--source', o.source, '--target', o.target, '--targetbus', bus, '--driver', 'qemu', '--subdriver', format, ...(device === 'cdrom' ? ['--type', 'cdrom', '--mode', 'readonly'] : []), ...flags],
      (xml) => addDevice(xml, diskElement({ source: o.source, target: o.target, format, device, bus })),
      signal,
    );
  }

  async detachDisk(ref: DomainRef, target: string, signal?: AbortSignal): Promise<DomainInfo> {
    return this.deviceChange(ref, (flags) => ['detach-disk', '--domain', domainKey(ref), '--target', target, ...flags], (xml) => removeDisk(xml, target), signal);
  }

  async attachNic(ref: DomainRef, o: { type: 'bridge' | 'network'; source: string; mac?: string; model?: string }, signal?: AbortSignal): Promise<DomainInfo> {
    return this.deviceChange(
      ref,
      (flags) => ['attach-interface', '--domain', domainKey(ref), '--type', o.type, '--source', o.source, ...(o.mac ? ['--mac', o.mac] : []), ...(o.model ? ['--model', o.model] : []), ...flags],
      (xml) => addDevice(xml, interfaceElement(o)),
      signal,
    );
  }

  async detachNic(ref: DomainRef, mac: string, signal?: AbortSignal): Promise<DomainInfo> {
    const cur = await this.get(ref, signal);
    const nic = cur.nics.find((n) => n.mac.toLowerCase() === mac.toLowerCase());
    if (!nic) throw new AgentError(RPC_NOT_FOUND, `the domain has no interface with MAC ${mac}`);
    return this.deviceChange(ref, (flags) => ['detach-interface', '--domain', cur.uuid, '--type', nic.type, '--mac', nic.mac, ...flags], (xml) => removeInterface(xml, nic.mac), signal);
  }

  /** Inserts (source) or ejects (null); ejecting an empty drive is a no-op. */
  async changeMedia(ref: DomainRef, target: string, source: string | null, signal?: AbortSignal): Promise<DomainInfo> {
    const cur = await this.get(ref, signal);
    const disk = cur.disks.find((d) => d.target === target);
    if (!disk) throw new AgentError(RPC_NOT_FOUND, `the domain has no drive ${target}`);
    if (source === null && disk.source === null) return cur;
    const action = source === null ? ['--eject'] : ['--source', source, disk.source === null ? '--insert' : '--update'];
    return this.deviceChange(ref, (flags) => ['change-media', '--domain', cur.uuid, '--path', target, ...action, ...flags], (xml) => setDiskSource(xml, target, source), signal);
  }

  async vnc(ref: DomainRef, signal?: AbortSignal): Promise<{ port: number | null; listen: string | null; passwordSet: boolean }> {
    const d = await this.get(ref, signal);
    const g = d.graphics.find((x) => x.type === 'vnc');
    if (!g) throw new AgentError(RPC_NOT_FOUND, `domain ${d.name} has no VNC display`);
    let port = g.port;
    if (port === null && isActive(d.state)) {
      // autoport: the XML may lag; vncdisplay answers ":N" (port 5900+N).
      const out = await this.v(['vncdisplay', '--domain', d.uuid], signal).catch(() => '');
      const n = /:(\d+)\s*$/.exec(out.trim());
      if (n) port = 5900 + Number(n[1]);
    }
    return { port, listen: g.listen, passwordSet: g.passwordSet };
  }

  async snapshots(ref: DomainRef, signal?: AbortSignal): Promise<SnapshotInfo[]> {
    const id = domainKey(ref);
    const names = lines(await this.v(['snapshot-list', '--domain', id, '--name'], signal));
    const current = await this.v(['snapshot-current', '--domain', id, '--name'], signal).then((s) => s.trim(), () => null);
    const out: SnapshotInfo[] = [];
    for (const name of names) out.push(await this.snapshot(id, name, current, signal));
    return out;
  }

  private async snapshot(id: string, name: string, current: string | null, signal?: AbortSignal): Promise<SnapshotInfo> {
    const s = child(parseXml(await this.v(['snapshot-dumpxml', '--domain', id, '--snapshotname', name], signal)), 'domainsnapshot');
    const created = Number(text(s, 'creationTime') ?? 0);
    const rawState = text(s, 'state') ?? 'unknown';
    const st = domState(rawState === 'shutoff' ? 'shut off' : rawState).state;
    return {
      name: text(s, 'name') ?? name,
      createdAt: new Date(created * 1000).toISOString(),
      state: st === 'unknown' ? rawState : st,
      current: current === name,
      description: text(s, 'description'),
      parent: text(child(s, 'parent'), 'name'),
    };
  }

  async createSnapshot(ref: DomainRef, name: string, description: string | undefined, signal?: AbortSignal): Promise<SnapshotInfo> {
    const id = domainKey(ref);
    if (description !== undefined && hasControlChars(description, '\t\n\r')) throw invalidParams('description must not contain control characters other than tab and line breaks');
    if (description !== undefined && hasControlChars(description)) {
      // A virsh command line cannot carry tabs or line breaks (see virshQuote): the snapshot's XML can.
      const xml = `<domainsnapshot><name>${xmlEscape(name)}</name><description>${xmlEscape(description)}</description></domainsnapshot>`;
      await this.lv.withTempFile(xml, (file) => this.v(['snapshot-create', '--domain', id, '--xmlfile', file], signal, LONG));
    } else {
      await this.v(['snapshot-create-as', '--domain', id, '--name', name, ...(description !== undefined ? ['--description', description] : [])], signal, LONG);
    }
    const current = await this.v(['snapshot-current', '--domain', id, '--name'], signal).then((s) => s.trim(), () => null);
    return this.snapshot(id, name, current, signal);
  }

  async revertSnapshot(ref: DomainRef, name: string, signal?: AbortSignal): Promise<DomainInfo> {
    await this.v(['snapshot-revert', '--domain', domainKey(ref), '--snapshotname', name], signal, LONG);
    return this.get(ref, signal);
  }

  async deleteSnapshot(ref: DomainRef, name: string, signal?: AbortSignal): Promise<void> {
    await this.v(['snapshot-delete', '--domain', domainKey(ref), '--snapshotname', name], signal, LONG);
  }
}

/** The bus a target name implies: vdX virtio, sdX SATA, hdX IDE. */
export function defaultBus(target: string, device: 'disk' | 'cdrom'): string {
  if (target.startsWith('vd')) return 'virtio';
  if (target.startsWith('hd')) return 'ide';
  if (target.startsWith('sd')) return 'sata';
  return device === 'cdrom' ? 'sata' : 'virtio';
}

