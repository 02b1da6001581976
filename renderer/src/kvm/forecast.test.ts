import { describe, expect, it } from 'vitest';
import { schedRequestSchema, type HostForecast, type Placement } from '@shared/contract/scheduler';
import { blankGuestForm } from './guest-create';
import { blankHostsForecastForm, guestForecastRequest, hostsForecastRequest, placementSummary, rejectionText, requestKey, scoreText, sortForecastHosts } from './forecast';

const host = (name: string, score: number | null): HostForecast => ({
  hostId: `h-${name}`,
  name,
  zoneId: null,
  score,
  scores: score === null ? null : { cpu: 1 },
  rejections: score === null ? [{ filter: 'memory', message: 'needs 8 GiB', numbers: {} }] : [],
  notes: [],
  placed: 0,
});
const placement = (i: number, hostName: string): Placement => ({ index: i, hostId: `h-${hostName}`, hostName, storages: [], networks: [], score: 50 });

describe('guestForecastRequest', () => {
  it('is the request guests.create gives the scheduler', () => {
    const form = { ...blankGuestForm(), vcpu: 4, memory: 8, memoryUnit: 'GiB' as const, diskGb: 40, storagePool: ' fast ', projectId: 'p1', networkId: 'n1' };
    expect(guestForecastRequest(form)).toEqual({
      vcpu: 4,
      memoryMb: 8192,
      hypervisor: 'kvm',
      provider: 'kvm',
      linkedOnly: true,
      projectId: 'p1',
      disks: [{ sizeGb: 40, storage: 'fast' }],
      networks: [{ networkId: 'n1' }],
    });
    expect(schedRequestSchema.safeParse(guestForecastRequest(form)).success).toBe(true);
  });

  it('leaves out a zero disk, a NIC without a Skydeck network and the chosen host; an empty pool is default', () => {
    const form = { ...blankGuestForm(), diskGb: 0, hostId: 'h1', networkId: null };
    const req = guestForecastRequest(form);
    expect(req.disks).toEqual([]);
    expect(req.networks).toEqual([]);
    expect(req).not.toHaveProperty('hostId');
    expect(guestForecastRequest({ ...blankGuestForm(), storagePool: '' }).disks).toEqual([{ sizeGb: 20, storage: 'default' }]);
    expect(guestForecastRequest({ ...blankGuestForm(), nicMode: 'none', networkId: 'n1' }).networks).toEqual([]);
  });

  it('changes its key only when the request changes', () => {
    const a = blankGuestForm();
    expect(requestKey(guestForecastRequest(a))).toBe(requestKey(guestForecastRequest({ ...a, name: 'web-1', password: 'x' })));
    expect(requestKey(guestForecastRequest(a))).not.toBe(requestKey(guestForecastRequest({ ...a, vcpu: 3 })));
  });
});

describe('hostsForecastRequest', () => {
  it('asks for KVM hosts with the count and strategy', () => {
    const req = hostsForecastRequest({ ...blankHostsForecastForm(), count: 5, strategy: 'binpack', diskGb: 0 });
    expect(req).toEqual({ vcpu: 2, memoryMb: 2048, hypervisor: 'kvm', projectId: null, disks: [], count: 5, strategy: 'binpack' });
    expect(schedRequestSchema.safeParse(req).success).toBe(true);
    expect(hostsForecastRequest(blankHostsForecastForm()).disks).toEqual([{ sizeGb: 20 }]);
  });
});

describe('showing a forecast', () => {
  it('sorts candidates by score, then rejected hosts by fewest rejections and name', () => {
    const hosts = [host('c', null), host('a', 10), host('b', 90), host('a2', null), host('d', 50)];
    expect(sortForecastHosts(hosts).map((h) => h.name)).toEqual(['b', 'd', 'a', 'a2', 'c']);
    expect(sortForecastHosts(hosts, 'asc').map((h) => h.name)).toEqual(['a', 'd', 'b', 'a2', 'c']);
    expect(hosts[0]!.name).toBe('c');
    const twice = { ...host('a0', null), rejections: [...host('a0', null).rejections, { filter: 'cpu' as const, message: 'x', numbers: {} }] };
    expect(sortForecastHosts([twice, host('z', null)]).map((h) => h.name)).toEqual(['z', 'a0']);
  });

  it('summarises placements by host, most first', () => {
    expect(placementSummary([placement(0, 'kvm-02'), placement(1, 'kvm-01'), placement(2, 'kvm-01'), placement(3, 'kvm-02'), placement(4, 'kvm-01')])).toBe('3 × kvm-01, 2 × kvm-02');
    expect(placementSummary([])).toBe('');
  });

  it('formats rejections and scores', () => {
    expect(rejectionText({ filter: 'memory', message: 'needs 8 GiB, 3.2 GiB free after overcommit 1.0', numbers: {} })).toBe('memory: needs 8 GiB, 3.2 GiB free after overcommit 1.0');
    expect(scoreText(83.26)).toBe('83.3');
    expect(scoreText(100)).toBe('100.0');
  });
});
