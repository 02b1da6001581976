import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentResult } from '@shared/agent/protocol';
import { buildBundle, startAgent, tempDir, until } from './testing';

/** The metrics ring over the protocol: sampling at 200 ms, persistence across a restart, and the ring's bound. */
const tmp = tempDir('skd-metrics-');
let bundle: string;

beforeAll(async () => {
  bundle = await buildBundle(tmp.path);
});
afterAll(() => tmp.cleanup());

type Read = AgentResult<'metrics.read'>;

describe('metrics', () => {
  it('samples the host and running domains, and keeps the samples across a restart', async () => {
    const dir = join(tmp.path, 'a');
    let a = await startAgent(bundle, dir, ['--metrics-interval', '200']);
    let first: Read;
    try {
      first = await until(async () => {
        const r = await a.client.call('metrics.read', {});
        return r.samples.filter((s) => s.scope === 'host').length >= 3 ? r : undefined;
      }, 5000, 'three host samples');
      expect(first.intervalMs).toBe(200);
      expect(first.dropped).toBe(0);
      const seqs = first.samples.map((s) => s.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(first.lastSeq).toBe(seqs.at(-1));
      const hosts = first.samples.filter((s) => s.scope === 'host');
      expect(Object.keys(hosts[1]!.values)).toEqual(expect.arrayContaining(['cpu.util', 'mem.total_bytes', 'mem.used_bytes', 'mem.available_bytes', 'load.1', 'load.5', 'load.15', 'blk.rd_bytes', 'blk.wr_bytes', 'net.rx_bytes', 'net.tx_bytes']));
      expect(hosts[1]!.values['cpu.util']).toBeGreaterThanOrEqual(0);
      expect(hosts[1]!.values['cpu.util']).toBeLessThanOrEqual(100);
      expect(hosts[1]!.ts - hosts[0]!.ts).toBeGreaterThanOrEqual(150);
      // The test driver's running domain "test" is sampled under its uuid.
      const test = (await a.client.call('domains.get', { name: 'test' })).uuid;
      expect(first.samples.some((s) => s.scope === test && s.values['state'] === 1)).toBe(true);
      // limit and afterSeq page through the ring.
      const page = await a.client.call('metrics.read', { afterSeq: seqs[0]!, limit: 2 });
      expect(page.samples.map((s) => s.seq)).toEqual(seqs.slice(1, 3));
      await a.client.call('agent.configure', { metricsIntervalMs: 100 });
      expect((await a.client.call('metrics.read', { afterSeq: first.lastSeq })).intervalMs).toBe(100);
    } finally {
      a.client.close();
      expect(await a.stop()).toBe(0);
    }
    const lastBefore = (JSON.parse(readFileSync(join(dir, 'state', 'metrics.ndjson'), 'utf8').trim().split('\n').at(-1)!) as { seq: number }).seq;
    expect(lastBefore).toBeGreaterThanOrEqual(first.lastSeq);

    a = await startAgent(bundle, dir, ['--metrics-interval', '200']);
    try {
      const all = await a.client.call('metrics.read', { afterSeq: 0 });
      expect(all.samples.slice(0, first.samples.length)).toEqual(first.samples);
      const next = await until(async () => {
        const r = await a.client.call('metrics.read', { afterSeq: lastBefore });
        return r.samples.length ? r : undefined;
      }, 5000, 'a sample after the restart');
      expect(next.samples[0]!.seq).toBe(lastBefore + 1);
      expect(next.dropped).toBe(0);
    } finally {
      a.client.close();
      await a.stop();
    }
  });

  it('bounds the ring and counts what a slow reader lost', async () => {
    const dir = join(tmp.path, 'b');
    const a = await startAgent(bundle, dir, ['--metrics-interval', '100', '--metrics-capacity', '5']);
    try {
      const r = await until(async () => {
        const x = await a.client.call('metrics.read', { afterSeq: 0 });
        return x.lastSeq >= 12 ? x : undefined;
      }, 8000, 'twelve samples');
      expect(r.samples).toHaveLength(5);
      expect(r.samples.at(-1)!.seq).toBe(r.lastSeq);
      expect(r.dropped).toBe(r.samples[0]!.seq - 1);
      expect(r.dropped).toBeGreaterThanOrEqual(7);
      // A reader that kept up loses nothing.
      const upToDate = await a.client.call('metrics.read', { afterSeq: r.lastSeq - 1 });
      expect(upToDate.dropped).toBe(0);
      expect(upToDate.samples[0]!.seq).toBe(r.lastSeq);
    } finally {
      a.client.close();
      await a.stop();
    }
  });
});
