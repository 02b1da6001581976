import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startAliyunFake, type AliyunFake } from '../../../scripts/peers/clouds/aliyun/fake.mjs';
import { testServer } from '../../test/helpers';
import { toApiError } from '../retry';
import { aliyunDriver } from '.';

/**
 * Alibaba Cloud: the real @alicloud/ecs20140526 SDK (ECS, and VPC through its generic callApi) against the loopback
 * fake, which verifies every ACS3-HMAC-SHA256 signature with its own implementation, through Skydeck's API: accounts,
 * sync, guest actions and operations.
 */

const connect = (fake: AliyunFake, secret = fake.accessKeySecret) =>
  aliyunDriver.connect({ accountId: 'a', provider: 'aliyun', endpoint: fake.url, credentials: { accessKeyId: fake.accessKeyId, accessKeySecret: secret } });

describe('the Alibaba Cloud SDK against the fake', () => {
  let fake: AliyunFake;
  afterEach(async () => fake?.close());

  it('lists every kind in a region, pages through instances, every request signed (ACS3) and verified', async () => {
    fake = await startAliyunFake({ instances: 1000, regions: 2 });
    const s = await connect(fake);
    expect(await s.validate()).toEqual({ account: fake.accessKeyId });
    expect((await s.listRegions()).map((r) => r.id)).toEqual(fake.regions);
    const region = fake.regions[0]!;
    expect((await s.listZones(region)).map((z) => z.id)).toEqual([`${region}-a`, `${region}-b`]);
    let token: string | null = null;
    const ids = new Set<string>();
    let pages = 0;
    do {
      const p = await s.listInstances(region, token, { pageSize: 100 });
      for (const i of p.items) ids.add(i.id);
      pages++;
      token = p.next;
    } while (token);
    expect(ids.size).toBe(500);
    expect(pages).toBe(5);
    const first = (await s.listInstances(region, null, { pageSize: 1 })).items[0]!;
    expect(first).toMatchObject({ name: 'vm-00000', zone: `${region}-a`, tags: { project: 'proj-0', env: 'dev' } });
    expect(['running', 'ready']).toContain(first.status);
    expect(first.vcpu).toBeGreaterThan(0);
    expect(first.memoryMb).toBeGreaterThan(0);
    const vpcs = await s.listVpcs(region, null);
    expect(vpcs.items).toEqual([expect.objectContaining({ cidr: '172.16.0.0/16', status: 'available' })]);
    const subnets = await s.listSubnets(region, null);
    expect(subnets.items.map((x) => x.vpcId)).toEqual([vpcs.items[0]!.id, vpcs.items[0]!.id]);
    const sgs = await s.listSecurityGroups(region, null);
    expect(sgs.items.find((g) => g.name === 'web')!.rules).toEqual([
      { direction: 'in', protocol: 'tcp', fromPort: 80, toPort: 80, cidr: '0.0.0.0/0', description: '' },
      { direction: 'in', protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '0.0.0.0/0', description: '' },
    ]);
    const eips = await s.listEips(region, null, { pageSize: 8 });
    expect(eips.items.length).toBe(8);
    expect(eips.next).toBe('2');
    expect(eips.items.filter((e) => e.status === 'associated').length).toBe(5);
    expect((await s.listKeypairs(region, null)).items.map((k) => k.name)).toEqual(['skydeck-key-0', 'skydeck-key-1']);
    expect((await s.listImages(region, null)).items.length).toBe(3);
    const running = fake.state.instances().find((i) => i.RegionId === region && i.Status === 'Running');
    expect(await s.consoleUrl(region, running.InstanceId)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/websocket\/\?s=/);
    expect(fake.requests.every((q) => q.signature === 'ACS3-HMAC-SHA256' && q.status === 200)).toBe(true);
    expect(fake.requests.filter((q) => q.product === 'vpc').map((q) => q.version)).toContain('2016-04-28');
    s.close();
  });

  it("maps the cloud's errors: wrong secret and unknown key → credentials, Forbidden.RAM → permission, throttling retried with x-acs-retry-after, dropped connections", async () => {
    fake = await startAliyunFake({ instances: 10, regions: 1 });
    const bad = await connect(fake, 'not-the-secret');
    const e1 = await bad.validate().catch((e: unknown) => e);
    expect(e1).toMatchObject({ cloudCode: 'SignatureDoesNotMatch', httpStatus: 400 });
    expect(toApiError(e1)).toMatchObject({ code: 'forbidden', details: { reason: 'credentials' } });
    const unknown = await aliyunDriver.connect({ accountId: 'a', provider: 'aliyun', endpoint: fake.url, credentials: { accessKeyId: 'LTAI5tUnknown', accessKeySecret: 'x' } });
    await expect(unknown.validate()).rejects.toMatchObject({ cloudCode: 'InvalidAccessKeyId.NotFound' });
    const s = await connect(fake);
    fake.inject({ kind: 'forbidden', action: 'StopInstance' });
    const e2 = await s.stopInstance(fake.regions[0]!, fake.state.instances()[0].InstanceId, false).catch((e: unknown) => e);
    expect(toApiError(e2)).toMatchObject({ code: 'forbidden', details: { reason: 'permission', cloudCode: 'Forbidden.RAM' } });
    fake.inject({ kind: 'throttle', action: 'DescribeRegions', times: 2, retryAfterMs: 300 });
    const retries: number[] = [];
    const t0 = Date.now();
    // listRegions has no onRetry: count through the fake.
    expect((await s.listRegions()).length).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(590);
    expect(fake.requests.filter((q) => q.action === 'DescribeRegions' && q.code === 'Throttling.User').length).toBe(2);
    fake.inject({ kind: 'throttling-503', action: 'DescribeInstances', times: 1 });
    fake.inject({ kind: 'reset', action: 'DescribeInstances', times: 1 });
    const p = await s.listInstances(fake.regions[0]!, null, { onRetry: (_e, n) => retries.push(n) });
    expect(p.items.length).toBe(10);
    expect(retries).toEqual([1, 2]);
    // A connection dropped at every attempt: retried, then "cannot be reached" with the errno code.
    fake.inject({ kind: 'reset', action: 'DescribeZones', times: 6 });
    const e3 = await s.listZones(fake.regions[0]!).catch((e: unknown) => e);
    expect(e3).toMatchObject({ cloudCode: 'ECONNRESET', httpStatus: null });
    expect(toApiError(e3)).toMatchObject({ code: 'unreachable' });
    s.close();
  }, 40_000);
});

type T = Awaited<ReturnType<typeof testServer>>;
describe('Alibaba Cloud accounts through the API', () => {
  let t: T;
  let fake: AliyunFake;
  afterEach(async () => {
    await t?.close();
    await fake?.close();
  });
  const creds = (secret = fake.accessKeySecret) => ({ provider: 'aliyun', accessKeyId: fake.accessKeyId, accessKeySecret: secret });
  const add = async (extra: Record<string, unknown> = {}) => {
    const r = await t.call('clouds.add', { name: 'aliyun-prod', credentials: creds(), endpoint: fake.url, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await t.core.engine.waitFor(r.body.taskId);
    return { id: r.body.account.account.id as string, task };
  };
  const guestsOf = (id: string) => t.core.db.prepare('SELECT * FROM guests WHERE cloud_account_id = ? ORDER BY name').all(id) as Record<string, any>[];
  const count = (table: string) => (t.core.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE provider = 'aliyun'`).get() as { n: number }).n;

  it('adds an account (secret only in the vault), syncs every kind over many pages, and re-syncs changed and vanished instances', async () => {
    fake = await startAliyunFake({ instances: 2400, regions: 2 });
    t = await testServer();
    const { id, task } = await add();
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc).toMatchObject({ provider: 'aliyun', endpoint: fake.url, credentialHint: fake.accessKeyId, guests: 2400 });
    expect(acc.account).toMatchObject({ health: 'ok', regions: fake.regions });
    // 1200 instances per region: 12 DescribeInstances pages each.
    expect(fake.requests.filter((q) => q.action === 'DescribeInstances').length).toBe(24);
    const disks = fake.state.disks().length;
    const snaps = fake.state.snapshots().length;
    expect([count('regions'), count('zones'), count('wires'), count('networks'), count('security_groups'), count('guests'), count('disks'), count('snapshots'), count('images'), count('eips'), count('keypairs')]).toEqual([2, 4, 2, 4, 4, 2400, disks, snaps, 6, 40, 4]);
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM disks WHERE provider = 'aliyun' AND guest_id IS NOT NULL`).get()).toEqual({ n: disks });
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM eips WHERE provider = 'aliyun' AND guest_id IS NOT NULL`).get()).toEqual({ n: 10 });
    const g = guestsOf(id).find((x) => x.name === 'vm-00000')!;
    const cloud = fake.state.instances().find((i) => i.InstanceName === 'vm-00000');
    expect(g).toMatchObject({ status: cloud.Status === 'Running' ? 'running' : 'ready', instance_type: cloud.InstanceType, vcpu: cloud.Cpu, memory_mb: cloud.Memory });
    expect(g.zone_id).toBeTruthy();
    expect(t.core.db.prepare(`SELECT key, value, source FROM tags WHERE kind = 'guest' AND resource_id = ? ORDER BY key`).all(g.id)).toEqual([
      { key: 'env', value: 'dev', source: 'provider' },
      { key: 'project', value: 'proj-0', source: 'provider' },
    ]);
    expect((await t.call('guests.list', { filter: ['provider:aliyun'], limit: 5 })).body.total).toBe(2400);
    // No secret in the audit log, the logs or the database outside the vault.
    expect(JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all())).not.toContain(fake.accessKeySecret);
    expect(t.lines.join('\n')).not.toContain(fake.accessKeySecret);
    const dbText = readFileSync(join(t.dataDir, readdirSync(t.dataDir).find((f) => f.endsWith('.db'))!)).toString('latin1');
    expect(dbText).not.toContain(fake.accessKeySecret);

    // In the cloud: one instance released (vanishes here), one renamed by a new sync.
    const region = fake.regions[0]!;
    const s = await connect(fake);
    const victim = fake.state.instances().find((i) => i.RegionId === region && !i.DeletionProtection);
    await s.deleteInstance(region, victim.InstanceId);
    expect(fake.state.instance(victim.InstanceId)).toBeUndefined();
    s.close();
    const s2 = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s2.status, JSON.stringify(s2.error)).toBe('succeeded');
    expect(guestsOf(id).find((x) => x.external_id.endsWith(victim.InstanceId))).toMatchObject({ status: 'vanished' });
    expect((s2.result as any).regions[0].counts.instances).toMatchObject({ inserted: 0, vanished: 1 });
  }, 60_000);

  it('retries throttling during a sync (Throttling.User, Throttling.Api, 503 ServiceUnavailable); a failing region is reported per region', async () => {
    fake = await startAliyunFake({ instances: 60, regions: 2 });
    t = await testServer();
    const { id } = await add();
    fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 2, retryAfterMs: 0 });
    fake.inject({ kind: 'throttle-api', action: 'DescribeVpcs', product: 'vpc', times: 1 });
    fake.inject({ kind: 'unavailable', action: 'DescribeDisks', times: 1 });
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status, JSON.stringify(s.error)).toBe('succeeded');
    expect((s.result as any).regions[0].retries).toBe(4);
    expect(guestsOf(id).filter((g) => g.status !== 'vanished').length).toBe(60);
    // The first region keeps failing (a 500 at each of the 6 attempts): its rows stay, the second region syncs.
    const before = guestsOf(id).length;
    fake.inject({ kind: 'internal', action: 'DescribeInstances', times: 6 });
    const f = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(f.status, JSON.stringify(f.error)).toBe('succeeded');
    expect((f.result as any).failedRegions).toEqual([expect.objectContaining({ region: fake.regions[0], code: 'InternalError' })]);
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.regionStatus[fake.regions[0]!]).toMatchObject({ ok: false, code: 'InternalError' });
    expect(acc.regionStatus[fake.regions[1]!]).toMatchObject({ ok: true });
    expect(acc.account.lastError).toContain(fake.regions[0]);
    expect(guestsOf(id).length).toBe(before);
    expect(guestsOf(id).every((g) => g.status !== 'vanished')).toBe(true);
  }, 120_000);

  it('refuses a wrong secret at add with a clear error and stores nothing', async () => {
    fake = await startAliyunFake({ instances: 5, regions: 1 });
    t = await testServer();
    const wrong = await t.call('clouds.add', { name: 'x', credentials: creds('WrongSecret-4f9a1c'), endpoint: fake.url });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'forbidden', details: { cloudCode: 'SignatureDoesNotMatch', reason: 'credentials', provider: 'aliyun' } });
    expect(wrong.body.message).toContain('Alibaba Cloud refused the credentials');
    expect(t.core.db.prepare('SELECT count(*) AS n FROM cloud_accounts').get()).toEqual({ n: 0 });
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM secrets WHERE id LIKE 'cloud:%'`).get()).toEqual({ n: 0 });
    expect(t.lines.join('\n')).not.toContain('WrongSecret-4f9a1c');
    expect(JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all())).not.toContain('WrongSecret-4f9a1c');
    const region = await t.call('clouds.add', { name: 'x', credentials: creds(), endpoint: fake.url, regions: ['mars-north-1'] });
    expect(region.status).toBe(400);
    expect(region.body.message).toContain('mars-north-1');
    // Credentials that stop working: the sync fails with the cloud's code on the task and the account.
    const { id } = await add();
    fake.inject({ kind: 'forbidden', action: 'DescribeZones', times: Infinity, code: 'InvalidAccessKeyId.Inactive', message: 'Specified access key is disabled.' });
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status).toBe('failed');
    expect(s.error).toMatchObject({ code: 'forbidden', reason: 'credentials' });
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.account).toMatchObject({ health: 'error' });
    expect(acc.account.lastError).toContain('InvalidAccessKeyId.Inactive');
    expect(guestsOf(id).length).toBe(5);
  });

  it('guest lifecycle through the common Guests actions, with deletion protection and missing permission surfaced', async () => {
    fake = await startAliyunFake({ instances: 200, regions: 1 });
    t = await testServer();
    const { id } = await add();
    const act = async (gid: string, action: string) => {
      const r = await t.call('guests.action', { id: gid, action });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return t.core.engine.waitFor(r.body.taskId);
    };
    const cloudIdOf = (g: Record<string, any>) => String(g.external_id).split('/').pop()!;
    const running = guestsOf(id).find((g) => g.status === 'running' && !fake.state.instance(cloudIdOf(g)).DeletionProtection)!;
    const cid = cloudIdOf(running);
    expect((await act(running.id, 'stop')).status).toBe('succeeded');
    expect(fake.state.instance(cid).Status).toBe('Stopped');
    expect(t.core.db.prepare('SELECT status FROM guests WHERE id = ?').get(running.id)).toEqual({ status: 'ready' });
    expect((await act(running.id, 'start')).status).toBe('succeeded');
    expect(fake.state.instance(cid).Status).toBe('Running');
    expect((await act(running.id, 'reboot')).status).toBe('succeeded');
    // Suspend is not something ECS offers: refused before any task.
    expect((await t.call('guests.action', { id: running.id, action: 'suspend' })).body.code).toBe('not_supported');
    expect((await act(running.id, 'forceStop')).status).toBe('succeeded');
    expect(fake.requests.some((q) => q.action === 'StopInstance' && q.params.ForceStop === 'true')).toBe(true);
    // Deletion protection (vm-00000 has it in the fake's world).
    const prot = guestsOf(id).find((g) => g.name === 'vm-00000')!;
    expect(fake.state.instance(cloudIdOf(prot)).DeletionProtection).toBe(true);
    const del = await act(prot.id, 'delete');
    expect(del.status).toBe('failed');
    expect(del.error).toMatchObject({ code: 'conflict', reason: 'termination_protection' });
    expect(fake.state.instance(cloudIdOf(prot))).toBeDefined();
    expect((await act(running.id, 'delete')).status).toBe('succeeded');
    expect(fake.state.instance(cid)).toBeUndefined();
    expect(t.core.db.prepare('SELECT 1 FROM guests WHERE id = ?').get(running.id)).toBeUndefined();
    // Missing permission: the cloud's own code on the task.
    const other = guestsOf(id).find((g) => g.status === 'running')!;
    fake.inject({ kind: 'forbidden', action: 'StopInstance' });
    const denied = await act(other.id, 'stop');
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatchObject({ code: 'forbidden', reason: 'permission' });
    expect(denied.error!.message).toContain('Forbidden.RAM');
  });

  it('operations: resize, create (quota and type-not-offered errors), disks, snapshots, EIPs, security group rules', async () => {
    fake = await startAliyunFake({ instances: 10, regions: 1, instanceQuota: 11 });
    t = await testServer();
    const { id } = await add();
    const region = fake.regions[0]!;
    const run = async (cmd: string, input: unknown) => {
      const res = await t.call(cmd, input);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return t.core.engine.waitFor(res.body.taskId);
    };
    const stopped = guestsOf(id).find((g) => g.status === 'ready')!;
    expect((await run('clouds.resizeGuest', { id: stopped.id, instanceType: 'ecs.g7.xlarge' })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT instance_type, vcpu, memory_mb FROM guests WHERE id = ?').get(stopped.id)).toEqual({ instance_type: 'ecs.g7.xlarge', vcpu: 4, memory_mb: 16384 });
    const runningG = guestsOf(id).find((g) => g.status === 'running')!;
    const bad = await run('clouds.resizeGuest', { id: runningG.id, instanceType: 'ecs.g7.xlarge' });
    expect(bad.error).toMatchObject({ code: 'conflict', reason: 'IncorrectInstanceStatus' });

    const image = 'ubuntu_22_04_x64_20G_alibase_20240130.vhd';
    const vsw = fake.state.vswitches();
    const swA = vsw.find((v) => v.ZoneId.endsWith('-a'))!.VSwitchId;
    const swB = vsw.find((v) => v.ZoneId.endsWith('-b'))!.VSwitchId;
    const sg = fake.state.securityGroups()[0].SecurityGroupId;
    const made = await run('clouds.createGuest', { accountId: id, region, name: 'new-vm', imageId: image, instanceType: 'ecs.g7.large', subnetId: swA, securityGroupIds: [sg], keyName: 'skydeck-key-0', diskGb: 60 });
    expect(made.status, JSON.stringify(made.error)).toBe('succeeded');
    const newVm = guestsOf(id).find((g) => g.name === 'new-vm')!;
    expect(newVm).toBeTruthy();
    const notOffered = await run('clouds.createGuest', { accountId: id, region, name: 'small', imageId: image, instanceType: 'ecs.t6-c1m1.large', subnetId: swB, securityGroupIds: [sg] });
    expect(notOffered.error).toMatchObject({ code: 'conflict', reason: 'InvalidResourceType.NotSupported' });
    const quota = await run('clouds.createGuest', { accountId: id, region, name: 'one-too-many', imageId: image, instanceType: 'ecs.g7.large', subnetId: swA, securityGroupIds: [sg] });
    expect(quota.error).toMatchObject({ code: 'conflict', reason: 'QuotaExceed.ElasticQuota' });
    expect(guestsOf(id).length).toBe(11);

    // Disks: a data disk of an instance in zone a: detach, attach to the new VM, snapshot, delete the snapshot.
    const data = fake.state.disks().find((d) => d.Type === 'data' && d.ZoneId.endsWith('-a'))!;
    const disk = t.core.db.prepare('SELECT * FROM disks WHERE external_id LIKE ?').get(`%/${data.DiskId}`) as Record<string, any>;
    expect(disk.guest_id).toBeTruthy();
    expect((await run('clouds.detachDisk', { diskId: disk.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM disks WHERE id = ?').get(disk.id)).toEqual({ guest_id: null });
    expect((await run('clouds.attachDisk', { diskId: disk.id, guestId: newVm.id, device: '/dev/xvdb' })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM disks WHERE id = ?').get(disk.id)).toEqual({ guest_id: newVm.id });
    const sysDisk = t.core.db.prepare('SELECT * FROM disks WHERE guest_id = ? AND bootable = 1').get(newVm.id) as Record<string, any>;
    expect(sysDisk.size_gb).toBe(60);
    const sysDetach = await run('clouds.detachDisk', { diskId: sysDisk.id });
    expect(sysDetach.error).toMatchObject({ reason: 'DiskCategory.OperationNotSupported' });
    expect((await run('clouds.createSnapshot', { diskId: disk.id, name: 'before-upgrade' })).status).toBe('succeeded');
    const snap = t.core.db.prepare('SELECT * FROM snapshots WHERE disk_id = ?').get(disk.id) as Record<string, any>;
    expect(snap.name).toBe('before-upgrade');
    expect((await run('clouds.deleteSnapshot', { id: snap.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT 1 FROM snapshots WHERE id = ?').get(snap.id)).toBeUndefined();

    // EIP (VPC API through callApi)
    const eip = t.core.db.prepare(`SELECT * FROM eips WHERE cloud_account_id = ? AND guest_id IS NULL ORDER BY ip LIMIT 1`).get(id) as Record<string, any>;
    expect((await run('clouds.associateEip', { eipId: eip.id, guestId: newVm.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: newVm.id, status: 'associated' });
    expect(t.core.db.prepare('SELECT ips FROM guests WHERE id = ?').get(newVm.id)).toEqual({ ips: eip.ip });
    expect((await run('clouds.dissociateEip', { eipId: eip.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: null, status: 'available' });

    // Security group rules
    const group = t.core.db.prepare(`SELECT id FROM security_groups WHERE external_id LIKE ?`).get(`%/${sg}`) as { id: string };
    const rules = () => t.core.db.prepare(`SELECT direction, protocol, ports, cidr FROM security_group_rules WHERE group_id = ? ORDER BY priority`).all(group.id);
    expect((await run('clouds.addRule', { groupId: group.id, protocol: 'tcp', fromPort: 8000, toPort: 8080, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    expect(rules()).toContainEqual({ direction: 'in', protocol: 'tcp', ports: '8000-8080', cidr: '10.0.0.0/8' });
    expect(fake.state.securityGroupRules(sg)).toContainEqual(expect.objectContaining({ IpProtocol: 'TCP', PortRange: '8000/8080', SourceCidrIp: '10.0.0.0/8' }));
    expect((await run('clouds.addRule', { groupId: group.id, protocol: 'icmp', fromPort: -1, toPort: -1, cidr: '0.0.0.0/0' })).status).toBe('succeeded');
    expect(rules()).toContainEqual({ direction: 'in', protocol: 'icmp', ports: 'any', cidr: '0.0.0.0/0' });
    expect((await run('clouds.removeRule', { groupId: group.id, protocol: 'tcp', fromPort: 8000, toPort: 8080, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    expect(rules()).not.toContainEqual({ direction: 'in', protocol: 'tcp', ports: '8000-8080', cidr: '10.0.0.0/8' });
    expect(fake.requests.every((q) => q.signature === 'ACS3-HMAC-SHA256')).toBe(true);

    const p = (await t.call('clouds.providers', {})).body;
    expect(p.items.find((x: any) => x.provider === 'aliyun')).toMatchObject({ credentialFields: [{ key: 'accessKeyId', secret: false }, { key: 'accessKeySecret', secret: true }] });
  });
});

describe('lazy SDK', () => {
  it('the Alibaba Cloud driver does not import the SDK until a session opens', () => {
    const src = readFileSync(join(import.meta.dirname, 'index.ts'), 'utf8');
    expect(src).not.toMatch(/^import [^t].*@alicloud/m);
    expect(readFileSync(join(import.meta.dirname, 'session.ts'), 'utf8')).not.toMatch(/^import [^t].*@alicloud/m);
    for (const f of ['../service.ts', '../sync.ts', '../registry.ts', '../handlers.ts', '../types.ts', '../retry.ts']) expect(readFileSync(join(import.meta.dirname, f), 'utf8')).not.toMatch(/from '@alicloud/);
  });
});
