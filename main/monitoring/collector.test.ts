import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, startAgent, tempDir, type Client, type RunningAgent } from '../../agents/kvm/testing';
import { openDatabase, type OpenedDatabase } from '../db/open';
import { DEFAULT_SETTINGS } from '@shared/contract/settings';
import { memoryLogger } from '../test/helpers';
import type { KvmService } from '../kvm/service';
import { MonitoringService } from './service';

/**
 * The collector against a real agent process (the built bundle, libvirt's test driver) whose ring holds only two
 * samples: what the ring overwrote before the collector came back is counted as dropped, and what it still held is
 * stored. The agent is reached over its own socket here instead of through SSH (the SSH path is monitoring-real.test.ts).
 */
const tmp = tempDir();
let agent: RunningAgent & { client: Client };
let opened: OpenedDatabase;
let svc: MonitoringService;

beforeAll(async () => {
  const bundle = await buildBundle(tmp.path);
  agent = await startAgent(bundle, join(tmp.path, 'agent'), ['--metrics-interval', '1000', '--metrics-capacity', '2']);
  opened = openDatabase(join(tmp.path, 'data'), '0.1.0-test');
  const kvm = { call: (_hostId: string, method: string, params: unknown) => agent.client.call(method as never, params as never) } as unknown as KvmService;
  svc = new MonitoringService({ db: opened.db, kvm, settings: () => ({ ...DEFAULT_SETTINGS, metricsIntervalSeconds: 1 }), logger: memoryLogger().logger });
}, 60_000);

afterAll(async () => {
  agent?.client.close();
  await agent?.stop();
  opened?.close();
  tmp.cleanup();
});

describe('collector and the agent’s bounded ring', () => {
  it('counts the samples the ring dropped while nobody collected, and stores what it still held', async () => {
    await new Promise((r) => setTimeout(r, 1300));
    await svc.collectHost('h-1');
    const first = svc.sources()[0]!;
    expect(first).toMatchObject({ sourceId: 'kvm:h-1', kind: 'kvm', intervalMs: 1000, lastError: null });
    // Away for ~4 ticks (a host sample and the test domain's sample per tick; the ring keeps the last 2).
    await new Promise((r) => setTimeout(r, 4200));
    await svc.collectHost('h-1');
    const s = svc.sources()[0]!;
    expect(s.droppedTotal).toBeGreaterThanOrEqual(4);
    expect(s.lastDroppedAt).not.toBeNull();
    // Every sample the agent numbered is either stored or counted as dropped.
    expect(s.samplesTotal + s.droppedTotal).toBe(s.lastSeq);
    const hostSamples = svc.mdb.series('host', 'h-1', 'load.1', 0, Date.now() + 60_000, 'raw').length;
    expect(hostSamples).toBeGreaterThanOrEqual(1);
    expect(hostSamples).toBeLessThan(4);
  }, 30_000);
});
