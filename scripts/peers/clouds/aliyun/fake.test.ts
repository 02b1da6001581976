/**
 * The Alibaba Cloud fake (./fake.mjs), driven by an independent client signed with ./signature.mjs: signature checks,
 * the API's errors, pagination over 10k instances, the operations that change state and fault injection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAliyunFake, type AliyunFake } from './fake.mjs';
import { signAcs3, signRpc } from './signature.mjs';

let fake: AliyunFake;
beforeAll(async () => {
  fake = await startAliyunFake({ instances: 10_000 });
});
afterAll(async () => {
  await fake?.close();
});

const VERSION = { ecs: '2014-05-26', vpc: '2016-04-28' } as const;
interface CallOpts { product?: 'ecs' | 'vpc'; secret?: string; accessKeyId?: string; rpc?: boolean; tamper?: (u: URL, h: Record<string, string>) => void; nonce?: string; date?: string }
interface Answer { status: number; body: any }

/** POSTs an RPC call with the operation's parameters in the query, signed ACS3 (or V2 RPC with rpc: true). */
async function call(action: string, params: Record<string, string | number | boolean> = {}, o: CallOpts = {}): Promise<Answer> {
  const product = o.product ?? 'ecs';
  const p = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const url = new URL(`${fake.url}/`);
  let headers: Record<string, string> = {};
  if (o.rpc) {
    const q = signRpc({ method: 'POST', action, version: VERSION[product], accessKeyId: o.accessKeyId ?? fake.accessKeyId, accessKeySecret: o.secret ?? fake.accessKeySecret, params: p, nonce: o.nonce });
    for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
  } else {
    for (const [k, v] of Object.entries(p)) url.searchParams.set(k, v);
    headers = signAcs3({ host: fake.endpoint, action, version: VERSION[product], query: p, accessKeyId: o.accessKeyId ?? fake.accessKeyId,
      accessKeySecret: o.secret ?? fake.accessKeySecret, nonce: o.nonce, date: o.date }).headers;
  }
  o.tamper?.(url, headers);
  const { host: _h, ...send } = headers;
  const res = await fetch(url, { method: 'POST', headers: send });
  return { status: res.status, body: await res.json() };
}
async function ok(action: string, params: Record<string, string | number | boolean> = {}, o: CallOpts = {}) {
  const r = await call(action, params, o);
  if (r.status !== 200) throw new Error(`${action}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

describe('signatures', () => {
  it('accepts a request signed with ACS3-HMAC-SHA256 and one signed with the V2 RPC signature', async () => {
    const a = await ok('DescribeRegions');
    expect(a.RequestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(a.Regions.Region.map((r: any) => r.RegionId)).toEqual(fake.regions);
    const b = await ok('DescribeRegions', {}, { rpc: true });
    expect(b.Regions.Region).toHaveLength(5);
    expect(fake.requests.slice(-2).map((r) => r.signature)).toEqual(['ACS3-HMAC-SHA256', 'HMAC-SHA1']);
  });

  it('rejects a wrong secret, an unknown key, a tampered parameter, a replayed nonce and a stale date', async () => {
    const wrong = await call('DescribeRegions', {}, { secret: 'not-the-secret' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ Code: 'SignatureDoesNotMatch', HostId: 'ecs.aliyuncs.com' });
    expect(wrong.body.Message).toContain('server string to sign is:ACS3-HMAC-SHA256\n');
    expect((await call('DescribeRegions', {}, { rpc: true, secret: 'nope' })).body.Code).toBe('SignatureDoesNotMatch');
    const unknown = await call('DescribeRegions', {}, { accessKeyId: 'LTAI5tNoSuchKey' });
    expect([unknown.status, unknown.body.Code]).toEqual([404, 'InvalidAccessKeyId.NotFound']);
    const tampered = await call('DescribeInstances', { RegionId: 'cn-hangzhou' }, { tamper: (u) => u.searchParams.set('RegionId', 'cn-beijing') });
    expect([tampered.status, tampered.body.Code]).toEqual([400, 'SignatureDoesNotMatch']);
    const unsigned = await call('DescribeRegions', {}, { tamper: (_u, h) => { h['x-acs-extra'] = '1'; } });
    expect(unsigned.body.Code).toBe('IncompleteSignature');
    await ok('DescribeRegions', {}, { nonce: 'fixed-nonce-1' });
    expect((await call('DescribeRegions', {}, { nonce: 'fixed-nonce-1' })).body.Code).toBe('SignatureNonceUsed');
    const stale = await call('DescribeRegions', {}, { date: '2023-10-26T10:22:32Z' });
    expect(stale.body.Code).toBe('InvalidTimeStamp.Expired');
  });
});

describe('the API surface', () => {
  it('answers unknown actions, versions, parameters and regions with the cloud’s errors', async () => {
    const a = await call('DescribeInstancez', { RegionId: 'cn-hangzhou' });
    expect([a.status, a.body.Code]).toEqual([404, 'InvalidAction.NotFound']);
    const v = await call('DescribeVpcs', { RegionId: 'cn-hangzhou' }, { tamper: () => undefined, product: 'ecs' });
    expect(v.body.Code).toBe('InvalidAction.NotFound'); // DescribeVpcs lives in the VPC API here
    const p = await call('DescribeInstances', { RegionId: 'cn-hangzhou', PageSizee: 10 });
    expect([p.status, p.body.Code]).toEqual([400, 'InvalidParameter']);
    const r = await call('DescribeInstances', { RegionId: 'cn-nowhere-1' });
    expect([r.status, r.body.Code]).toEqual([404, 'InvalidRegionId.NotFound']);
    const m = await call('DescribeInstances', {});
    expect([m.status, m.body.Code]).toEqual([400, 'MissingParameter']);
    const big = await call('DescribeInstances', { RegionId: 'cn-hangzhou', PageSize: 101 });
    expect(big.body.Code).toBe('InvalidParameter');
  });

  it('pages through 10k instances with PageNumber/PageSize and with NextToken/MaxResults', async () => {
    const seen = new Set<string>();
    let requests = 0;
    for (const RegionId of fake.regions) {
      for (let page = 1; ; page++) {
        const r = await ok('DescribeInstances', { RegionId, PageNumber: page, PageSize: 100 });
        requests++;
        expect(r).toMatchObject({ TotalCount: 2000, PageNumber: page, PageSize: 100 });
        for (const i of r.Instances.Instance) seen.add(i.InstanceId);
        if (page * 100 >= r.TotalCount) break;
      }
    }
    expect(seen.size).toBe(10_000);
    expect(requests).toBe(100);
    const first = (await ok('DescribeInstances', { RegionId: 'cn-shanghai', PageSize: 1 })).Instances.Instance[0];
    expect(first).toMatchObject({ RegionId: 'cn-shanghai', ZoneId: 'cn-shanghai-a', VpcAttributes: { VpcId: expect.stringMatching(/^vpc-/) },
      SecurityGroupIds: { SecurityGroupId: [expect.stringMatching(/^sg-/)] }, Tags: { Tag: expect.arrayContaining([{ TagKey: 'env', TagValue: 'prod' }]) } });
    let token = '';
    const byToken = new Set<string>();
    do {
      const r = await ok('DescribeInstances', { RegionId: 'cn-beijing', MaxResults: 100, ...(token ? { NextToken: token } : {}) });
      for (const i of r.Instances.Instance) byToken.add(i.InstanceId);
      token = r.NextToken;
    } while (token);
    expect(byToken.size).toBe(2000);
    const bad = await call('DescribeInstances', { RegionId: 'cn-beijing', NextToken: 'garbage' });
    expect(bad.body.Code).toBe('InvalidParameter.NextToken');
  });

  it('lists zones, VPCs, vSwitches, security groups, disks, snapshots, images, EIPs and key pairs', async () => {
    const RegionId = 'cn-hangzhou';
    expect((await ok('DescribeZones', { RegionId })).Zones.Zone.map((z: any) => z.ZoneId)).toEqual(['cn-hangzhou-a', 'cn-hangzhou-b']);
    const vpcs = await ok('DescribeVpcs', { RegionId }, { product: 'vpc' });
    expect(vpcs).toMatchObject({ TotalCount: 1, PageNumber: 1 });
    expect(vpcs.Vpcs.Vpc[0].VSwitchIds.VSwitchId).toHaveLength(2);
    expect((await ok('DescribeVSwitches', { RegionId, VpcId: vpcs.Vpcs.Vpc[0].VpcId }, { product: 'vpc' })).VSwitches.VSwitch).toHaveLength(2);
    expect((await ok('DescribeSecurityGroups', { RegionId })).SecurityGroups.SecurityGroup).toHaveLength(2);
    const disks = await ok('DescribeDisks', { RegionId, PageSize: 100 });
    expect(disks.TotalCount).toBe(2400); // a system disk each and a data disk on every fifth
    expect((await ok('DescribeSnapshots', { RegionId })).TotalCount).toBe(200);
    expect((await ok('DescribeImages', { RegionId })).Images.Image).toHaveLength(3);
    expect((await ok('DescribeEipAddresses', { RegionId }, { product: 'vpc' })).TotalCount).toBe(20);
    expect((await ok('DescribeKeyPairs', { RegionId })).KeyPairs.KeyPair).toHaveLength(2);
  });
});

describe('operations', () => {
  const RegionId = 'ap-southeast-1';
  const pick = (status: string) => fake.state.instances().find((i) => i.RegionId === RegionId && i.Status === status && !i.DeletionProtection && !i.EipAddress.AllocationId);

  it('stops, resizes, starts, reboots and deletes an instance, refusing wrong states', async () => {
    const x = pick('Running');
    expect((await call('StartInstance', { InstanceId: x.InstanceId, RegionId })).body.Code).toBe('IncorrectInstanceStatus');
    await ok('StopInstance', { InstanceId: x.InstanceId });
    expect(fake.state.instance(x.InstanceId).Status).toBe('Stopped');
    expect((await call('ModifyInstanceSpec', { InstanceId: x.InstanceId, InstanceType: 'ecs.nope' })).body.Code).toBe('InvalidInstanceType.ValueNotSupported');
    await ok('ModifyInstanceSpec', { InstanceId: x.InstanceId, InstanceType: 'ecs.g7.xlarge' });
    expect(fake.state.instance(x.InstanceId)).toMatchObject({ InstanceType: 'ecs.g7.xlarge', Cpu: 4, Memory: 16384 });
    await ok('StartInstance', { InstanceId: x.InstanceId });
    await ok('RebootInstance', { InstanceId: x.InstanceId });
    expect((await call('DeleteInstance', { InstanceId: x.InstanceId })).body.Code).toBe('IncorrectInstanceStatus');
    await ok('DeleteInstance', { InstanceId: x.InstanceId, Force: true });
    const gone = await call('StopInstance', { InstanceId: x.InstanceId });
    expect([gone.status, gone.body.Code]).toEqual([404, 'InvalidInstanceId.NotFound']);
    const prot = fake.state.instances().find((i) => i.DeletionProtection);
    expect((await call('DeleteInstance', { InstanceId: prot.InstanceId, Force: true })).body.Code).toBe('InvalidOperation.DeletionProtection');
  });

  it('runs batch operations with per-instance answers', async () => {
    const xs = fake.state.instances().filter((i) => i.RegionId === RegionId && i.Status === 'Stopped').slice(0, 3);
    const r = await ok('StartInstances', Object.fromEntries([['RegionId', RegionId], ...xs.map((x, k) => [`InstanceId.${k + 1}`, x.InstanceId])]));
    expect(r.InstanceResponses.InstanceResponse.map((a: any) => [a.Code, a.PreviousStatus, a.CurrentStatus])).toEqual(xs.map(() => ['200', 'Stopped', 'Running']));
  });

  it('creates an instance, refusing a type the zone does not offer, and honours DryRun', async () => {
    const vs = fake.state.vswitches().filter((v) => v.RegionId === RegionId);
    const sg = fake.state.securityGroups().find((g) => g.RegionId === RegionId);
    const base = { RegionId, ImageId: 'ubuntu_22_04_x64_20G_alibase_20240130.vhd', SecurityGroupId: sg.SecurityGroupId, KeyPairName: 'skydeck-key-1',
      'SystemDisk.Category': 'cloud_essd', 'SystemDisk.Size': 50, 'DataDisk.1.Size': 200, 'DataDisk.1.Category': 'cloud_essd', 'Tag.1.Key': 'owner', 'Tag.1.Value': 'skydeck' };
    const no = await call('RunInstances', { ...base, InstanceType: 'ecs.t6-c1m1.large', VSwitchId: vs[1].VSwitchId });
    expect([no.status, no.body.Code]).toEqual([403, 'InvalidResourceType.NotSupported']);
    expect((await call('RunInstances', { ...base, InstanceType: 'ecs.g7.large', VSwitchId: vs[0].VSwitchId, DryRun: true })).body.Code).toBe('DryRunOperation');
    const r = await ok('RunInstances', { ...base, InstanceType: 'ecs.t6-c1m1.large', VSwitchId: vs[0].VSwitchId, Amount: 2, InstanceName: 'new-vm' });
    expect(r.InstanceIdSets.InstanceIdSet).toHaveLength(2);
    const got = await ok('DescribeInstances', { RegionId, InstanceIds: JSON.stringify(r.InstanceIdSets.InstanceIdSet) });
    expect(got.Instances.Instance.map((i: any) => [i.InstanceName, i.Status, i.ZoneId, i.KeyPairName])).toEqual([
      ['new-vm', 'Running', `${RegionId}-a`, 'skydeck-key-1'], ['new-vm', 'Running', `${RegionId}-a`, 'skydeck-key-1']]);
    expect(got.Instances.Instance[0].Tags.Tag).toEqual([{ TagKey: 'owner', TagValue: 'skydeck' }]);
    const disks = await ok('DescribeDisks', { RegionId, InstanceId: r.InstanceIdSets.InstanceIdSet[0] });
    expect(disks.Disks.Disk.map((d: any) => [d.Type, d.Size])).toEqual([['system', 50], ['data', 200]]);
  });

  it('detaches and attaches a disk, snapshots it and deletes the snapshot', async () => {
    const x = fake.state.instances().find((i) => i.RegionId === RegionId && fake.state.disks().filter((d) => d.InstanceId === i.InstanceId).length === 2);
    const data = fake.state.disks().find((d) => d.InstanceId === x.InstanceId && d.Type === 'data');
    const sys = fake.state.disks().find((d) => d.InstanceId === x.InstanceId && d.Type === 'system');
    expect((await call('DetachDisk', { InstanceId: x.InstanceId, DiskId: sys.DiskId })).body.Code).toBe('DiskCategory.OperationNotSupported');
    await ok('DetachDisk', { InstanceId: x.InstanceId, DiskId: data.DiskId });
    expect(fake.state.disks().find((d) => d.DiskId === data.DiskId)).toMatchObject({ Status: 'Available', InstanceId: '' });
    await ok('AttachDisk', { InstanceId: x.InstanceId, DiskId: data.DiskId });
    expect((await call('AttachDisk', { InstanceId: x.InstanceId, DiskId: data.DiskId })).body.Code).toBe('IncorrectDiskStatus');
    const s = await ok('CreateSnapshot', { DiskId: data.DiskId, SnapshotName: 'before-upgrade' });
    expect(s.SnapshotId).toMatch(/^s-/);
    expect((await ok('DescribeSnapshots', { RegionId, DiskId: data.DiskId })).Snapshots.Snapshot[0]).toMatchObject({ SnapshotName: 'before-upgrade', Status: 'accomplished' });
    await ok('DeleteSnapshot', { SnapshotId: s.SnapshotId });
    expect((await call('DeleteSnapshot', { SnapshotId: s.SnapshotId })).body.Code).toBe('InvalidSnapshotId.NotFound');
  });

  it('associates and unassociates an EIP through the VPC API', async () => {
    const x = pick('Running');
    const eip = fake.state.eips().find((e) => e.RegionId === RegionId && e.Status === 'Available');
    await ok('AssociateEipAddress', { RegionId, AllocationId: eip.AllocationId, InstanceId: x.InstanceId }, { product: 'vpc' });
    expect(fake.state.instance(x.InstanceId).EipAddress).toMatchObject({ AllocationId: eip.AllocationId, IpAddress: eip.IpAddress });
    expect((await call('AssociateEipAddress', { RegionId, AllocationId: eip.AllocationId, InstanceId: x.InstanceId }, { product: 'vpc' })).body.Code).toBe('IncorrectEipStatus');
    await ok('UnassociateEipAddress', { RegionId, AllocationId: eip.AllocationId, InstanceId: x.InstanceId }, { product: 'vpc' });
    expect(fake.state.eips().find((e) => e.AllocationId === eip.AllocationId)?.Status).toBe('Available');
  });

  it('authorizes and revokes security group rules', async () => {
    const sg = fake.state.securityGroups().find((g) => g.RegionId === RegionId);
    const before = fake.state.securityGroupRules(sg.SecurityGroupId).length;
    await ok('AuthorizeSecurityGroup', { RegionId, SecurityGroupId: sg.SecurityGroupId, 'Permissions.1.IpProtocol': 'tcp', 'Permissions.1.PortRange': '8080/8080', 'Permissions.1.SourceCidrIp': '10.0.0.0/8' });
    const attr = await ok('DescribeSecurityGroupAttribute', { RegionId, SecurityGroupId: sg.SecurityGroupId });
    expect(attr.Permissions.Permission).toHaveLength(before + 1);
    expect(attr.Permissions.Permission.at(-1)).toMatchObject({ IpProtocol: 'TCP', PortRange: '8080/8080', SourceCidrIp: '10.0.0.0/8', Policy: 'Accept', Direction: 'ingress' });
    expect((await call('AuthorizeSecurityGroup', { RegionId, SecurityGroupId: sg.SecurityGroupId, 'Permissions.1.IpProtocol': 'tcp', 'Permissions.1.PortRange': '80' })).body.Code).toBe('InvalidPortRange.Malformed');
    await ok('RevokeSecurityGroup', { RegionId, SecurityGroupId: sg.SecurityGroupId, 'SecurityGroupRuleId.1': attr.Permissions.Permission.at(-1).SecurityGroupRuleId });
    expect(fake.state.securityGroupRules(sg.SecurityGroupId)).toHaveLength(before);
  });

  it('answers a VNC URL for a running instance', async () => {
    const x = pick('Running');
    expect((await ok('DescribeInstanceVncUrl', { RegionId, InstanceId: x.InstanceId })).VncUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/websocket\/\?s=[0-9a-f]{48}$/);
  });
});

describe('fault injection', () => {
  it('throttles the next N matching requests, then answers normally', async () => {
    fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 2, retryAfterMs: 1500 });
    const a = await call('DescribeRegions');
    expect(a.status).toBe(200); // another action is not affected
    const r = await fetchRaw('DescribeInstances', { RegionId: 'cn-hangzhou' });
    expect([r.status, r.headers.get('x-acs-retry-after')]).toEqual([400, '1500']);
    const b = await call('DescribeInstances', { RegionId: 'cn-hangzhou' });
    expect([b.status, b.body.Code, b.body.Message]).toEqual([400, 'Throttling.User', 'Request was denied due to user flow control.']);
    expect((await call('DescribeInstances', { RegionId: 'cn-hangzhou' })).status).toBe(200);
  });

  it('injects 5xx, missing permission, quota, zone and region errors and dropped connections', async () => {
    const cases: Array<[Parameters<AliyunFake['inject']>[0]['kind'], number, string]> = [
      ['unavailable', 503, 'ServiceUnavailable'], ['internal', 500, 'InternalError'], ['forbidden', 403, 'Forbidden.RAM'],
      ['quota', 403, 'QuotaExceed.ElasticQuota'], ['zone-type', 403, 'InvalidResourceType.NotSupported'], ['no-stock', 403, 'OperationDenied.NoStock'],
      ['region', 404, 'InvalidRegionId.NotFound'], ['throttling', 400, 'Throttling'], ['throttling-503', 503, 'Throttling'],
    ];
    for (const [kind, status, code] of cases) {
      fake.inject({ kind });
      const r = await call('DescribeRegions');
      expect([r.status, r.body.Code]).toEqual([status, code]);
    }
    fake.inject({ kind: 'forbidden', product: 'vpc', times: Infinity });
    expect((await call('DescribeVpcs', { RegionId: 'cn-hangzhou' }, { product: 'vpc' })).body.Code).toBe('Forbidden.RAM');
    expect((await call('DescribeRegions')).status).toBe(200);
    fake.clearFaults();
    expect((await call('DescribeVpcs', { RegionId: 'cn-hangzhou' }, { product: 'vpc' })).status).toBe(200);
    fake.inject({ kind: 'reset' });
    await expect(call('DescribeRegions')).rejects.toThrow();
    const quota = await startAliyunFake({ instances: 10, regions: 1, instanceQuota: 10 });
    try {
      const vs = quota.state.vswitches()[0];
      const sg = quota.state.securityGroups()[0];
      const r = await fetch(`${quota.url}/?${new URLSearchParams(signRpc({ method: 'GET', action: 'RunInstances', version: '2014-05-26', accessKeyId: quota.accessKeyId,
        accessKeySecret: quota.accessKeySecret, params: { RegionId: 'cn-hangzhou', ImageId: 'aliyun_3_x64_20G_alibase_20240528.vhd', InstanceType: 'ecs.g7.large',
          VSwitchId: vs.VSwitchId, SecurityGroupId: sg.SecurityGroupId } }))}`);
      expect([r.status, ((await r.json()) as any).Code]).toEqual([403, 'QuotaExceed.ElasticQuota']);
    } finally {
      await quota.close();
    }
  });
});

async function fetchRaw(action: string, params: Record<string, string>) {
  const url = new URL(`${fake.url}/`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const { host: _h, ...headers } = signAcs3({ host: fake.endpoint, action, version: '2014-05-26', query: params, accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret }).headers;
  const res = await fetch(url, { method: 'POST', headers });
  await res.arrayBuffer();
  return res;
}
