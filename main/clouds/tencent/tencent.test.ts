import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTencentFake, type TencentFake } from '../../../scripts/peers/clouds/tencent/fake.mjs';
import { testServer } from '../../test/helpers';
import { toApiError } from '../retry';
import { secretIdOf } from '../service';
import { CloudError, type CloudSession } from '../types';
import { tencentError, tencentNicMac, tencentTime, tencentTransport } from './session';
import { tencentDriver } from '.';

/**
 * Tencent Cloud: the real tencentcloud-sdk-nodejs-cvm (CVM) and its generic client (VPC, CBS) against the loopback
 * fake, which verifies every TC3-HMAC-SHA256 signature with its own implementation; then accounts, sync and
 * operations through Skydeck's API.
 */

describe('endpoint override → per-product endpoints', () => {
  it('keeps the production defaults; maps a loopback URL to real host names resolved to it; swaps the product label', async () => {
    const prod = tencentTransport(null);
    expect([prod.protocol, prod.endpoint('cvm'), prod.endpoint('vpc'), prod.endpoint('cbs'), prod.agent]).toEqual(['https://', 'cvm.tencentcloudapi.com', 'vpc.tencentcloudapi.com', 'cbs.tencentcloudapi.com', null]);
    const local = tencentTransport('http://127.0.0.1:4567');
    expect([local.protocol, local.endpoint('cvm'), local.endpoint('cbs')]).toEqual(['http://', 'cvm.tencentcloudapi.com:4567', 'cbs.tencentcloudapi.com:4567']);
    const lookup = (local.agent as unknown as { options: { lookup: (h: string, o: object, cb: (e: unknown, a: unknown, f?: number) => void) => void } }).options.lookup;
    const resolved = await new Promise((resolve) => lookup('vpc.tencentcloudapi.com', {}, (_e, a, f) => resolve([a, f])));
    expect(resolved).toEqual(['127.0.0.1', 4]);
    local.agent!.destroy();
    const regional = tencentTransport('https://cvm.ap-guangzhou.tencentcloudapi.com');
    expect([regional.endpoint('vpc'), regional.agent]).toEqual(['vpc.ap-guangzhou.tencentcloudapi.com', null]);
    expect(tencentTransport('https://api.example.internal:8443').endpoint('cbs')).toBe('cbs.api.example.internal:8443');
  });

  it('reads Beijing-time stamps, derives stable NIC MACs, and keeps the cloud codes of errors', () => {
    expect(tencentTime('2024-01-01 08:00:00')).toBe('2024-01-01T00:00:00.000Z');
    expect(tencentTime('2024-01-01T00:00:00Z')).toBe('2024-01-01T00:00:00.000Z');
    expect(tencentNicMac('ins-abc', 0)).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(tencentNicMac('ins-abc', 0)).toBe(tencentNicMac('ins-abc', 0));
    const api = tencentError(Object.assign(new Error('slow down'), { code: 'RequestLimitExceeded', requestId: 'r-1' })) as CloudError;
    expect(api).toMatchObject({ cloudCode: 'RequestLimitExceeded', httpStatus: null });
    expect(tencentError(Object.assign(new Error('Bad Gateway'), { httpCode: 502 }))).toMatchObject({ cloudCode: 'HTTP502', httpStatus: 502 });
    expect(tencentError(new Error('request to http://cvm.tencentcloudapi.com/ failed, reason: connect ECONNREFUSED 127.0.0.1:1'))).toMatchObject({ cloudCode: 'ECONNREFUSED' });
    expect(toApiError(new CloudError('tencent', 'AuthFailure.SignatureExpire', 'expired'))).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
    expect(toApiError(new CloudError('tencent', 'UnauthorizedOperation', 'no'))).toMatchObject({ code: 'forbidden', details: { reason: 'permission' } });
    expect(toApiError(new CloudError('tencent', 'ResourcesSoldOut.SpecifiedInstanceType', 'sold out'))).toMatchObject({ code: 'conflict' });
  });
});

describe('the Tencent Cloud SDK against the fake', () => {
  let fake: TencentFake;
  let s: CloudSession | undefined;
  afterEach(async () => {
    s?.close();
    await fake?.close();
  });

  it('pages CVM, VPC and CBS listings with Offset/Limit, every request signed for its product and verified', async () => {
    fake = await startTencentFake({ instances: 500, regions: 2 });
    s = await tencentDriver.connect({ accountId: 'a', provider: 'tencent', endpoint: fake.url, credentials: { secretId: fake.secretId, secretKey: fake.secretKey } });
    expect(await s.validate()).toEqual({ account: fake.secretId });
    expect((await s.listRegions()).map((r) => r.id)).toEqual(fake.regions);
    const region = fake.regions[0]!;
    let token: string | null = null;
    const ids = new Set<string>();
    let pages = 0;
    do {
      const p: Awaited<ReturnType<CloudSession['listInstances']>> = await s.listInstances(region, token, { pageSize: 100 });
      for (const i of p.items) ids.add(i.id);
      pages++;
      token = p.next;
    } while (token);
    expect(ids.size).toBe(250);
    expect(pages).toBe(3);
    const disks = await s.listDisks(region, null, { pageSize: 100 });
    expect(disks.items.length).toBe(100);
    expect(disks.next).toBe('100');
    expect((await s.listVpcs(region, null)).items).toHaveLength(1);
    const groups = (await s.listSecurityGroups(region, null)).items;
    expect(groups.find((g) => g.name === 'web')!.rules).toEqual(expect.arrayContaining([expect.objectContaining({ direction: 'in', protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' })]));
    const services = new Set(fake.requests.map((r) => `${r.service}:${r.host.split(':')[0]}`));
    expect(services).toEqual(new Set(['cvm:cvm.tencentcloudapi.com', 'cbs:cbs.tencentcloudapi.com', 'vpc:vpc.tencentcloudapi.com']));
    expect(fake.requests.every((r) => r.secretId === fake.secretId && r.code === null && r.version === '2017-03-12')).toBe(true);
    // The VNC console URL where the API offers one (a running instance).
    const running = fake.state.instances().find((i) => i.Region === region && i.InstanceState === 'RUNNING')!;
    expect(await s.consoleUrl(region, running.InstanceId)).toMatch(/^https:\/\/img\.qcloud\.com\/qcloud\/app\/active_vnc\/index\.html\?InstanceVncUrl=ws%3A%2F%2F127\.0\.0\.1/);
  });

  it("wrong key → AuthFailure.SignatureFailure; unknown SecretId → AuthFailure.SecretIdNotFound (the cloud's codes kept)", async () => {
    fake = await startTencentFake({ instances: 10, regions: 1 });
    s = await tencentDriver.connect({ accountId: 'a', provider: 'tencent', endpoint: fake.url, credentials: { secretId: fake.secretId, secretKey: 'wrong' } });
    await expect(s.validate()).rejects.toMatchObject({ cloudCode: 'AuthFailure.SignatureFailure' });
    s.close();
    s = await tencentDriver.connect({ accountId: 'a', provider: 'tencent', endpoint: fake.url, credentials: { secretId: 'AKIDunknown', secretKey: 'x' } });
    await expect(s.validate()).rejects.toMatchObject({ cloudCode: 'AuthFailure.SecretIdNotFound' });
  });
});

type T = Awaited<ReturnType<typeof testServer>>;
describe('Tencent Cloud accounts through the API', () => {
  let t: T;
  let fake: TencentFake;
  afterEach(async () => {
    await t?.close();
    await fake?.close();
  });
  const creds = () => ({ provider: 'tencent', secretId: fake.secretId, secretKey: fake.secretKey });
  const add = async (extra: Record<string, unknown> = {}) => {
    const r = await t.call('clouds.add', { name: 'tc', credentials: creds(), endpoint: fake.url, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await t.core.engine.waitFor(r.body.taskId);
    return { id: r.body.account.account.id as string, task };
  };
  const guestsOf = (id: string) => t.core.db.prepare('SELECT * FROM guests WHERE cloud_account_id = ? ORDER BY name').all(id) as Record<string, any>[];
  const cloudIdOf = (g: Record<string, any>) => String(g.external_id).split('/').pop()!;
  const direct = () => tencentDriver.connect({ accountId: 'x', provider: 'tencent', endpoint: fake.url, credentials: { secretId: fake.secretId, secretKey: fake.secretKey } });

  it('adds an account, syncs every kind (paged), and re-syncs added, changed and vanished instances', async () => {
    fake = await startTencentFake({ instances: 300, regions: 2 });
    t = await testServer();
    const { id, task } = await add();
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc).toMatchObject({ provider: 'tencent', endpoint: fake.url, credentialHint: fake.secretId, guests: 300 });
    expect(acc.account).toMatchObject({ health: 'ok', regions: fake.regions });
    const count = (table: string) => (t.core.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE provider = 'tencent'`).get() as { n: number }).n;
    // Per region: 2 zones, 1 VPC, 2 subnets, 2 groups, 150 instances, 180 disks, 15 snapshots, 3 images, 20 EIPs, 2 keys.
    expect([count('regions'), count('zones'), count('wires'), count('networks'), count('security_groups'), count('guests'), count('disks'), count('snapshots'), count('images'), count('eips'), count('keypairs')]).toEqual([2, 4, 2, 4, 4, 300, 360, 30, 6, 40, 4]);
    // 150 instances per region in pages of 100.
    expect(fake.requests.filter((r) => r.action === 'DescribeInstances').length).toBe(4);
    const g = guestsOf(id).find((x) => x.name === 'vm-00001')!;
    const src = fake.state.instance(cloudIdOf(g))!;
    expect(g).toMatchObject({ status: src.InstanceState === 'RUNNING' ? 'running' : 'ready', instance_type: src.InstanceType, vcpu: src.CPU, memory_mb: src.Memory * 1024 });
    expect(g.zone_id).toBeTruthy();
    const tags = t.core.db.prepare(`SELECT key, value, source FROM tags WHERE kind = 'guest' AND resource_id = ? ORDER BY key`).all(g.id);
    expect(tags).toEqual([{ key: 'env', value: 'prod', source: 'provider' }, { key: 'project', value: 'proj-1', source: 'provider' }]);
    const nic = t.core.db.prepare('SELECT network_id, ip FROM guest_nics WHERE guest_id = ?').get(g.id) as { network_id: string; ip: string };
    expect(nic).toMatchObject({ ip: src.PrivateIpAddresses[0] });
    expect(nic.network_id).toBeTruthy();
    const boot = t.core.db.prepare('SELECT bootable, size_gb FROM disks WHERE guest_id = ? AND bootable = 1').get(g.id);
    expect(boot).toEqual({ bootable: 1, size_gb: 50 });
    expect((await t.call('guests.list', { filter: ['provider:tencent'], limit: 5 })).body.total).toBe(300);
    // No secret anywhere but the vault.
    expect(JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all())).not.toContain(fake.secretKey);
    expect(t.lines.join('\n')).not.toContain(fake.secretKey);
    const dbText = readFileSync(join(t.dataDir, readdirSync(t.dataDir).find((f) => f.endsWith('.db'))!)).toString('latin1');
    expect(dbText).not.toContain(fake.secretKey);

    // Changes made in the cloud (through the SDK): one instance added, one resized, one terminated.
    const region = fake.regions[0]!;
    const s = await direct();
    const stopped = guestsOf(id).find((x) => x.status === 'ready' && x.instance_type !== 'S5.LARGE8' && String(x.external_id).includes(`/${region}/`))!;
    await s.resizeInstance(region, cloudIdOf(stopped), 'S5.LARGE8');
    const gone = guestsOf(id).find((x) => x.status === 'running' && x.name !== 'vm-00000' && String(x.external_id).includes(`/${region}/`))!;
    await s.deleteInstance(region, cloudIdOf(gone));
    const made = await s.createInstance(region, { name: 'added-1', imageId: 'img-22trbn9x', instanceType: 'S5.MEDIUM4', tags: { team: 'ops' } });
    expect(made).toMatchObject({ name: 'added-1', instanceType: 'S5.MEDIUM4' });
    s.close();
    const s2 = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s2.status, JSON.stringify(s2.error)).toBe('succeeded');
    const after = guestsOf(id);
    expect(after.find((x) => x.name === 'added-1')).toMatchObject({ instance_type: 'S5.MEDIUM4' });
    expect(after.find((x) => x.id === stopped.id)).toMatchObject({ instance_type: 'S5.LARGE8', vcpu: 4, memory_mb: 8192 });
    expect(after.find((x) => x.id === gone.id)).toMatchObject({ status: 'vanished' });
    expect((s2.result as any).regions[0].counts.instances).toMatchObject({ inserted: 1, updated: 1, vanished: 1 });
  }, 30_000);

  it('retries throttling, gateway 5xx, InternalError and a dropped connection during a sync', async () => {
    fake = await startTencentFake({ instances: 40, regions: 1 });
    t = await testServer();
    const { id } = await add();
    const before = guestsOf(id).length;
    fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 2 });
    fake.inject({ kind: 'http-502', action: 'DescribeDisks', times: 1 });
    fake.inject({ kind: 'internal', action: 'DescribeSnapshots', times: 1 });
    fake.inject({ kind: 'reset', action: 'DescribeVpcs', times: 1 });
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status, JSON.stringify(s.error)).toBe('succeeded');
    expect((s.result as any).regions[0]).toMatchObject({ ok: true, retries: 5 });
    const codes = fake.requests.map((r) => r.code).filter(Boolean);
    expect(codes).toEqual(['reset', 'RequestLimitExceeded', 'RequestLimitExceeded', 'HTTP 502', 'InternalError']);
    expect(guestsOf(id).length).toBe(before);
    // Throttled for good: the cloud's code on the task and the region, nothing corrupted.
    fake.inject({ kind: 'throttle-uin', action: 'DescribeInstances', times: Infinity });
    const bad = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(bad.status).toBe('failed');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.regionStatus[fake.regions[0]!]).toMatchObject({ ok: false, code: 'RequestLimitExceeded.UinLimitExceeded' });
    expect(guestsOf(id).every((g) => g.status !== 'vanished')).toBe(true);
  }, 60_000);

  it('refuses a wrong key and an unknown region at add (nothing stored); a key changed later fails the sync with a clear error on the account', async () => {
    fake = await startTencentFake({ instances: 10, regions: 1 });
    t = await testServer();
    const wrong = await t.call('clouds.add', { name: 'x', credentials: { ...creds(), secretKey: 'WrongKey-7d1e0b' }, endpoint: fake.url });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'forbidden', details: { cloudCode: 'AuthFailure.SignatureFailure', reason: 'credentials', provider: 'tencent' } });
    const region = await t.call('clouds.add', { name: 'x', credentials: creds(), endpoint: fake.url, regions: ['ap-mars'] });
    expect(region.status).toBe(400);
    expect(region.body.message).toContain('ap-mars');
    expect(t.core.db.prepare('SELECT count(*) AS n FROM cloud_accounts').get()).toEqual({ n: 0 });
    expect(t.lines.join('\n')).not.toContain('WrongKey-7d1e0b');
    expect(JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all())).not.toContain('WrongKey-7d1e0b');

    const { id } = await add();
    const n = guestsOf(id).length;
    expect(n).toBe(10);
    // The key was rotated in the cloud; the vault still holds the old one.
    await t.core.vault.put(secretIdOf(id), 'cloud-credentials', JSON.stringify({ secretId: fake.secretId, secretKey: 'RotatedAway-55c2' }));
    t.core.clouds.forget(id);
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status).toBe('failed');
    expect(s.error).toMatchObject({ code: 'forbidden', reason: 'credentials' });
    expect(s.error!.message).toContain('AuthFailure.SignatureFailure');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.account).toMatchObject({ health: 'error', stale: true });
    expect(acc.account.lastError).toContain('AuthFailure.SignatureFailure');
    expect(guestsOf(id).length).toBe(n);
    expect(guestsOf(id).every((g) => g.stale === 1 && g.status !== 'vanished')).toBe(true);
    expect(t.lines.join('\n')).not.toContain('RotatedAway-55c2');
  });

  it('guest lifecycle through the common Guests actions, with termination protection and missing permission surfaced', async () => {
    fake = await startTencentFake({ instances: 20, regions: 1 });
    t = await testServer();
    const { id } = await add();
    const act = async (gid: string, action: string) => {
      const r = await t.call('guests.action', { id: gid, action });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return t.core.engine.waitFor(r.body.taskId);
    };
    const running = guestsOf(id).find((g) => g.status === 'running' && g.name !== 'vm-00000')!;
    const cid = cloudIdOf(running);
    const stop = await act(running.id, 'stop');
    expect(stop.status, JSON.stringify(stop.error)).toBe('succeeded');
    expect(fake.state.instance(cid)!.InstanceState).toBe('STOPPED');
    expect(fake.requests.find((r) => r.action === 'StopInstances')!.params).toEqual({ InstanceIds: [cid], StopType: 'SOFT_FIRST' });
    expect(t.core.db.prepare('SELECT status FROM guests WHERE id = ?').get(running.id)).toEqual({ status: 'ready' });
    expect((await act(running.id, 'start')).status).toBe('succeeded');
    expect(fake.state.instance(cid)!.InstanceState).toBe('RUNNING');
    expect((await act(running.id, 'reboot')).status).toBe('succeeded');
    // Suspend is not something CVM offers: refused before any task.
    expect((await t.call('guests.action', { id: running.id, action: 'suspend' })).body.code).toBe('not_supported');
    expect((await act(running.id, 'forceStop')).status).toBe('succeeded');
    expect(fake.requests.filter((r) => r.action === 'StopInstances').pop()!.params.StopType).toBe('HARD');
    // vm-00000 has DisableApiTermination on.
    const protectedG = guestsOf(id).find((g) => g.name === 'vm-00000')!;
    const del = await act(protectedG.id, 'delete');
    expect(del.status).toBe('failed');
    expect(del.error).toMatchObject({ code: 'conflict', reason: 'termination_protection' });
    expect(fake.state.instance(cloudIdOf(protectedG))).toBeDefined();
    expect(fake.requests.some((r) => r.action === 'TerminateInstances')).toBe(false);
    expect((await act(running.id, 'delete')).status).toBe('succeeded');
    expect(fake.state.instance(cid)).toBeUndefined();
    expect(t.core.db.prepare('SELECT 1 FROM guests WHERE id = ?').get(running.id)).toBeUndefined();
    // Missing permission: the cloud's own code on the task.
    const other = guestsOf(id).find((g) => g.status === 'running' && g.name !== 'vm-00000')!;
    fake.inject({ kind: 'forbidden', action: 'StopInstances' });
    const denied = await act(other.id, 'stop');
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatchObject({ code: 'forbidden', reason: 'permission' });
    expect(denied.error!.message).toContain('UnauthorizedOperation');
  });

  it('operations as tasks: resize, create (quota, sold out), disks, snapshots, EIPs, security group rules', async () => {
    fake = await startTencentFake({ instances: 10, regions: 1, instanceQuota: 11 });
    t = await testServer();
    const { id } = await add();
    const region = fake.regions[0]!;
    const run = async (cmd: string, input: unknown) => {
      const res = await t.call(cmd, input);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return t.core.engine.waitFor(res.body.taskId);
    };
    const stopped = guestsOf(id).find((g) => g.status === 'ready')!;
    const [to, mem] = stopped.instance_type === 'S5.LARGE8' ? ['S5.MEDIUM4', 4096] : ['S5.LARGE8', 8192];
    const rs = await run('clouds.resizeGuest', { id: stopped.id, instanceType: to });
    expect(rs.status, JSON.stringify(rs.error)).toBe('succeeded');
    expect(t.core.db.prepare('SELECT instance_type, memory_mb FROM guests WHERE id = ?').get(stopped.id)).toEqual({ instance_type: to, memory_mb: mem });
    const runningG = guestsOf(id).find((g) => g.status === 'running')!;
    const bad = await run('clouds.resizeGuest', { id: runningG.id, instanceType: 'S5.LARGE8' });
    expect(bad.error).toMatchObject({ code: 'conflict', reason: 'UnsupportedOperation.InstanceStateRunning' });

    // Create in the second zone's subnet, with a group and a key pair by name.
    const subnet = fake.state.subnets().find((s) => s.Region === region && s.Zone.endsWith('-4'))!;
    const sg = fake.state.securityGroups().find((g) => g.Region === region)!;
    const made = await run('clouds.createGuest', { accountId: id, region, name: 'new-vm', imageId: 'img-487zeit5', instanceType: 'S5.MEDIUM4', subnetId: subnet.SubnetId, securityGroupIds: [sg.SecurityGroupId], keyName: 'skydeck_key_0', diskGb: 80 });
    expect(made.status, JSON.stringify(made.error)).toBe('succeeded');
    const runReq = fake.requests.find((r) => r.action === 'RunInstances')!;
    expect(runReq.params).toMatchObject({ Placement: { Zone: subnet.Zone }, VirtualPrivateCloud: { VpcId: subnet.VpcId, SubnetId: subnet.SubnetId }, SystemDisk: { DiskSize: 80 }, LoginSettings: { KeyIds: [expect.stringMatching(/^skey-/)] }, SecurityGroupIds: [sg.SecurityGroupId] });
    const newVm = guestsOf(id).find((g) => g.name === 'new-vm')!;
    expect(newVm).toMatchObject({ status: 'running', instance_type: 'S5.MEDIUM4' });
    const quota = await run('clouds.createGuest', { accountId: id, region, name: 'one-too-many', imageId: 'img-487zeit5', instanceType: 'S5.MEDIUM4' });
    expect(quota.error).toMatchObject({ code: 'conflict', reason: 'LimitExceeded.InstanceQuota' });
    fake.inject({ kind: 'zone-type', action: 'RunInstances' });
    const soldOut = await run('clouds.createGuest', { accountId: id, region, name: 'big', imageId: 'img-487zeit5', instanceType: 'S6.MEDIUM4', subnetId: subnet.SubnetId });
    expect(soldOut.error).toMatchObject({ code: 'conflict', reason: 'ResourcesSoldOut.SpecifiedInstanceType' });
    expect(guestsOf(id).length).toBe(11);

    // A data disk: detach, attach again to the same instance, snapshot it, delete the snapshot.
    const dataDisk = fake.state.disks().find((d) => d.Region === region && d.DiskUsage === 'DATA_DISK')!;
    const disk = t.core.db.prepare('SELECT * FROM disks WHERE external_id LIKE ?').get(`%/${dataDisk.DiskId}`) as Record<string, any>;
    const owner = disk.guest_id as string;
    expect(owner).toBeTruthy();
    expect((await run('clouds.detachDisk', { diskId: disk.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM disks WHERE id = ?').get(disk.id)).toEqual({ guest_id: null, status: 'available' });
    expect((await run('clouds.attachDisk', { diskId: disk.id, guestId: owner, device: '/dev/vdb' })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM disks WHERE id = ?').get(disk.id)).toEqual({ guest_id: owner, status: 'in-use' });
    expect((await run('clouds.createSnapshot', { diskId: disk.id, name: 'before-upgrade' })).status).toBe('succeeded');
    const snap = t.core.db.prepare('SELECT * FROM snapshots WHERE disk_id = ? AND name = ?').get(disk.id, 'before-upgrade') as Record<string, any>;
    expect(snap).toBeTruthy();
    expect((await run('clouds.deleteSnapshot', { id: snap.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT 1 FROM snapshots WHERE id = ?').get(snap.id)).toBeUndefined();

    // EIP: an unbound one onto the new VM, then off again.
    const free = fake.state.addresses().find((a) => a.Region === region && a.AddressStatus === 'UNBIND')!;
    const eip = t.core.db.prepare('SELECT * FROM eips WHERE external_id LIKE ?').get(`%/${free.AddressId}`) as Record<string, any>;
    expect((await run('clouds.associateEip', { eipId: eip.id, guestId: newVm.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: newVm.id, status: 'associated' });
    expect(fake.state.instance(cloudIdOf(newVm))!.PublicIpAddresses).toEqual([free.AddressIp]);
    expect((await run('clouds.dissociateEip', { eipId: eip.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: null, status: 'available' });

    // Security group rules.
    const group = t.core.db.prepare('SELECT id FROM security_groups WHERE external_id LIKE ?').get(`%/${sg.SecurityGroupId}`) as { id: string };
    expect((await run('clouds.addRule', { groupId: group.id, protocol: 'tcp', fromPort: 8000, toPort: 8080, cidr: '10.0.0.0/8', description: 'app' })).status).toBe('succeeded');
    expect(fake.state.securityGroupPolicies(sg.SecurityGroupId)!.Ingress).toContainEqual(expect.objectContaining({ Protocol: 'TCP', Port: '8000-8080', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT', PolicyDescription: 'app' }));
    const rules = () => t.core.db.prepare('SELECT direction, protocol, ports, cidr FROM security_group_rules WHERE group_id = ? ORDER BY priority').all(group.id);
    expect(rules()).toContainEqual({ direction: 'in', protocol: 'tcp', ports: '8000-8080', cidr: '10.0.0.0/8' });
    expect((await run('clouds.removeRule', { groupId: group.id, protocol: 'tcp', fromPort: 8000, toPort: 8080, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    expect(rules()).not.toContainEqual({ direction: 'in', protocol: 'tcp', ports: '8000-8080', cidr: '10.0.0.0/8' });
    expect(fake.requests.every((r) => r.secretId === fake.secretId)).toBe(true);

    const p = (await t.call('clouds.providers', {})).body;
    expect(p.items.find((x: any) => x.provider === 'tencent')).toMatchObject({ credentialFields: [{ key: 'secretId', secret: false }, { key: 'secretKey', secret: true }] });
  }, 30_000);
});

describe('lazy SDK', () => {
  it('the Tencent driver imports the SDK only inside connect', () => {
    const src = readFileSync(join(import.meta.dirname, 'index.ts'), 'utf8');
    expect(src).not.toMatch(/^import [^t].*tencentcloud/m);
    expect(src).toMatch(/import\('tencentcloud-sdk-nodejs-cvm'\)/);
    const session = readFileSync(join(import.meta.dirname, 'session.ts'), 'utf8');
    expect(session).not.toMatch(/^import (?!type ).*tencentcloud/m);
    for (const f of ['../service.ts', '../sync.ts', '../registry.ts', '../handlers.ts', '../types.ts', '../retry.ts']) expect(readFileSync(join(import.meta.dirname, f), 'utf8')).not.toMatch(/from 'tencentcloud/);
  });
});
