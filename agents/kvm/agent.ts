import { join } from 'node:path';
import { AGENT_PROTOCOL_VERSION, type AgentHello, type AgentMethod, type AgentNotifications, type AgentResult } from '@shared/agent/protocol';
import { Domains } from './domains';
import { invalidParams } from './errors';
import { hostFacts } from './facts';
import { Libvirt } from './libvirt';
import type { Logger } from './log';
import { MetricsSampler } from './metrics';
import { MetricsStore } from './metrics-store';
import { Params } from './params';
import type { RequestContext, RpcServer } from './rpc';
import { Storage } from './storage';
import { DomainWatcher } from './watch';

export const AGENT_VERSION = typeof __AGENT_VERSION__ === 'string' ? __AGENT_VERSION__ : '0.0.0-dev';

export interface AgentConfig {
  dir: string;
  uri: string;
  metricsIntervalMs: number;
  metricsCapacity: number;
  pollMs: number;
  supervisor: string;
}

/** The agent's state: one libvirt connection (replaceable by agent.configure), the domain watcher, the metrics. */
export class Agent {
  private lv!: Libvirt;
  private domains!: Domains;
  private storage!: Storage;
  private watcher!: DomainWatcher;
  readonly store: MetricsStore;
  private sampler!: MetricsSampler;
  private readonly startedAt = new Date().toISOString();

  constructor(
    readonly config: AgentConfig,
    private readonly server: RpcServer,
    private readonly log: Logger,
    /** Called by agent.shutdown once the answer is on its way. */
    private readonly onShutdown: () => void,
  ) {
    this.store = new MetricsStore({ file: join(config.dir, 'state', 'metrics.ndjson'), capacity: config.metricsCapacity, log });
    this.connect(config.uri);
    this.register();
  }

  async start(): Promise<void> {
    await this.store.load();
    this.sampler = new MetricsSampler({
      store: this.store,
      log: this.log,
      intervalMs: this.config.metricsIntervalMs,
      domstats: () => this.lv.virsh(['domstats', '--raw', '--state', '--cpu-total', '--balloon', '--vcpu', '--interface', '--block']).catch(() => null),
      uuidOf: async (name) => this.watcher.uuidOf(name) ?? (await this.lv.virsh(['domuuid', '--domain', name]).then((s) => s.trim(), () => null)),
      poolPaths: () => this.storage.poolPaths(),
    });
    this.sampler.start();
    this.watcher.start();
  }

  async stop(): Promise<void> {
    this.sampler?.stop();
    this.watcher.stop();
    this.lv.close();
    await this.store.flush();
  }

  private connect(uri: string): void {
    this.lv = new Libvirt({ uri, log: this.log, tmpDir: join(this.config.dir, 'state', 'tmp') });
    this.domains = new Domains(this.lv);
    this.storage = new Storage(this.lv);
    this.watcher = new DomainWatcher({
      lv: this.lv,
      pollMs: this.config.pollMs,
      log: this.log,
      notify: <M extends keyof AgentNotifications>(method: M, params: AgentNotifications[M]) => this.server.notify(method, params),
    });
  }

  private hello(): AgentHello {
    return {
      agentVersion: AGENT_VERSION,
      protocol: AGENT_PROTOCOL_VERSION,
      pid: process.pid,
      node: process.version,
      libvirtUri: this.lv.uri,
      startedAt: this.startedAt,
      installDir: this.config.dir,
      supervisor: this.config.supervisor,
    };
  }

  private on<M extends AgentMethod>(method: M, fn: (p: Params, ctx: RequestContext) => Promise<AgentResult<M>> | AgentResult<M>): void {
    this.server.register(method, (raw, ctx) => fn(new Params(raw), ctx));
  }

  /** After a change: poll at once so that other clients hear of it without waiting for the next round. */
  private changed<T>(r: T): T {
    void this.watcher.poll();
    return r;
  }

  private register(): void {
    this.on('agent.hello', (p) => {
      p.str('appVersion', { max: 100 });
      p.int('protocol', { min: 0 });
      return this.hello();
    });
    this.on('agent.ping', () => ({ now: Date.now() }));
    this.on('agent.shutdown', () => {
      setImmediate(this.onShutdown);
      return { ok: true };
    });
    this.on('agent.configure', (p) => {
      const uri = p.optLine('libvirtUri', { max: 1024 });
      const interval = p.optInt('metricsIntervalMs', { min: 100, max: 3_600_000 });
      if (uri !== undefined && uri !== this.lv.uri) {
        this.watcher.stop();
        this.lv.close();
        this.connect(uri);
        this.config.uri = uri;
        this.watcher.start();
        this.log.info('libvirt uri changed', { uri });
      }
      if (interval !== undefined) {
        this.config.metricsIntervalMs = interval;
        this.sampler.setInterval(interval);
      }
      return { ok: true };
    });

    this.on('host.facts', (_p, { signal }) => hostFacts(this.lv, signal));

    this.on('domains.list', (_p, { signal }) => this.domains.list(signal));
    this.on('domains.get', (p, { signal }) => this.domains.get(p.domain(), signal));
    this.on('domains.define', async (p, { signal }) => this.changed(await this.domains.define(p.str('xml', { max: 4 * 1024 * 1024 }), signal)));
    this.on('domains.start', async (p, { signal }) => this.changed(await this.domains.start(p.domain(), signal)));
    this.on('domains.shutdown', async (p, { signal }) => {
      const ref = p.domain();
      return this.changed(await this.domains.shutdown(ref, p.optInt('timeoutMs', { min: 0, max: 3_600_000 }) ?? 120_000, signal));
    });
    this.on('domains.destroy', async (p, { signal }) => this.changed(await this.domains.destroy(p.domain(), signal)));
    for (const op of ['reboot', 'reset', 'suspend', 'resume'] as const) {
      this.on(`domains.${op}`, async (p, { signal }) => this.changed(await this.domains.simple(op, p.domain(), signal)));
    }
    this.on('domains.undefine', async (p, { signal }) => {
      const ref = p.domain();
      await this.domains.undefine(ref, p.optBool('removeStorage') ?? false, signal);
      return this.changed({ ok: true as const });
    });
    this.on('domains.setResources', async (p, { signal }) => {
      const ref = p.domain();
      const vcpu = p.optInt('vcpu', { min: 1, max: 4096 });
      const memoryMb = p.optInt('memoryMb', { min: 16, max: 64 * 1024 * 1024 });
      if (vcpu === undefined && memoryMb === undefined) throw invalidParams('give vcpu, memoryMb or both');
      return this.changed(await this.domains.setResources(ref, vcpu, memoryMb, signal));
    });
    this.on('domains.attachDisk', async (p, { signal }) => {
      const ref = p.domain();
      const o = {
        source: p.line('source'),
        target: p.line('target', { max: 32 }),
        ...(p.has('format') ? { format: p.line('format', { max: 32 }) } : {}),
        ...(p.has('device') ? { device: p.oneOf('device', ['disk', 'cdrom'] as const) } : {}),
        ...(p.has('bus') ? { bus: p.line('bus', { max: 32 }) } : {}),
      };
      return this.changed(await this.domains.attachDisk(ref, o, signal));
    });
    this.on('domains.detachDisk', async (p, { signal }) => this.changed(await this.domains.detachDisk(p.domain(), p.line('target', { max: 32 }), signal)));
    this.on('domains.attachNic', async (p, { signal }) => {
      const ref = p.domain();
      const mac = p.optLine('mac', { max: 17 });
      if (mac !== undefined && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw invalidParams('mac must look like 52:54:00:12:34:56');
      const o = { type: p.oneOf('type', ['bridge', 'network'] as const), source: p.line('source', { max: 256 }), ...(mac ? { mac } : {}), ...(p.has('model') ? { model: p.line('model', { max: 64 }) } : {}) };
      return this.changed(await this.domains.attachNic(ref, o, signal));
    });
    this.on('domains.detachNic', async (p, { signal }) => this.changed(await this.domains.detachNic(p.domain(), p.line('mac', { max: 17 }), signal)));
    this.on('domains.changeMedia', async (p, { signal }) => {
      const ref = p.domain();
      const target = p.line('target', { max: 32 });
      const source = p.has('source') ? p.line('source') : null;
      return this.changed(await this.domains.changeMedia(ref, target, source, signal));
    });
    this.on('domains.vnc', (p, { signal }) => this.domains.vnc(p.domain(), signal));

    this.on('snapshots.list', (p, { signal }) => this.domains.snapshots(p.domain(), signal));
    this.on('snapshots.create', (p, { signal }) => this.domains.createSnapshot(p.domainUuid(), p.line('name', { max: 256 }), p.optStr('description', { max: 64 * 1024, allowEmpty: true }), signal));
    this.on('snapshots.revert', async (p, { signal }) => this.changed(await this.domains.revertSnapshot(p.domainUuid(), p.line('name', { max: 256 }), signal)));
    this.on('snapshots.delete', async (p, { signal }) => {
      await this.domains.deleteSnapshot(p.domainUuid(), p.line('name', { max: 256 }), signal);
      return { ok: true as const };
    });

    this.on('pools.list', (_p, { signal }) => this.storage.pools(signal));
    this.on('volumes.list', (p, { signal }) => this.storage.volumes(p.line('pool', { max: 256 }), signal));
    this.on('volumes.create', (p, { signal }) => {
      const o = {
        pool: p.line('pool', { max: 256 }),
        name: p.line('name', { max: 255 }),
        sizeBytes: p.int('sizeBytes', { min: 0 }),
        format: p.oneOf('format', ['qcow2', 'raw'] as const),
        ...(p.has('backingFile') ? { backingFile: p.line('backingFile') } : {}),
        ...(p.has('copyFrom') ? { copyFrom: p.line('copyFrom') } : {}),
      };
      if (o.backingFile && o.copyFrom) throw invalidParams('give backingFile or copyFrom, not both');
      if (!o.backingFile && !o.copyFrom && o.sizeBytes === 0) throw invalidParams('sizeBytes must be at least 1 for a new empty volume');
      return this.storage.createVolume(o, signal);
    });
    this.on('volumes.delete', async (p, { signal }) => {
      await this.storage.deleteVolume(p.line('pool', { max: 256 }), p.line('name', { max: 255 }), signal);
      return { ok: true as const };
    });
    this.on('volumes.cloudInit', (p, { signal }) => {
      const o = {
        pool: p.line('pool', { max: 256 }),
        name: p.line('name', { max: 255 }),
        userData: p.str('userData', { max: 8 * 1024 * 1024, allowEmpty: true }),
        metaData: p.str('metaData', { max: 1024 * 1024, allowEmpty: true }),
        ...(p.has('networkConfig') ? { networkConfig: p.str('networkConfig', { max: 1024 * 1024, allowEmpty: true }) } : {}),
      };
      return this.storage.cloudInit(o, signal);
    });

    this.on('metrics.read', (p) => {
      const afterSeq = p.optInt('afterSeq', { min: 0 }) ?? 0;
      const limit = p.optInt('limit', { min: 1, max: 50_000 }) ?? 5000;
      return { ...this.store.read(afterSeq, limit), intervalMs: this.config.metricsIntervalMs };
    });
  }
}
