/**
 * The Tencent Cloud fake (./fake.mjs), driven by an independent client signed with ./signature.mjs and sent through the
 * fake's agent to cvm/vpc/cbs.tencentcloudapi.com:PORT: signature checks, the API's errors, Offset/Limit paging over
 * 10k instances, the operations that change state and fault injection.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTencentFake, type TencentFake } from './fake.mjs';
import { signTc3 } from './signature.mjs';

let fake: TencentFake;
beforeAll(async () => {
  fake = await startTencentFake({ instances: 10_000 });
});
afterAll(async () => {
  await fake?.close();
});

type Service = 'cvm' | 'vpc' | 'cbs';
interface CallOpts { service?: Service; region?: string | null; secretId?: string; secretKey?: string; timestamp?: number; version?: string;
  tamper?: (h: Record<string, string>, body: { text: string }) => void; scopeService?: string; get?: string }
interface Answer { status: number; text: string; body: any }

function send(host: string, method: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: fake.port, method, path, headers: { ...headers, Host: `${host}:${fake.port}` }, agent: fake.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: any = null;
        try {
          parsed = JSON.parse(text);
        } catch { /* an HTML gateway error */ }
        resolve({ status: res.statusCode ?? 0, text, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs (TC3, host without port as the SDK does) and POSTs an API 3.0 call; GET with o.get as the query string. */
async function call(action: string, params: object = {}, o: CallOpts = {}): Promise<Answer> {
  const service = o.service ?? 'cvm';
  const host = `${service}.tencentcloudapi.com`;
  const s = signTc3({ secretId: o.secretId ?? fake.secretId, secretKey: o.secretKey ?? fake.secretKey, service: o.scopeService ?? service, host, action,
    version: o.version ?? '2017-03-12', region: o.region === null ? undefined : (o.region ?? 'ap-guangzhou'), timestamp: o.timestamp,
    payload: JSON.stringify(params), ...(o.get !== undefined ? { method: 'GET', query: o.get } : {}) });
  const { Host: _h, ...headers } = s.headers;
  const body = { text: s.payload };
  o.tamper?.(headers, body);
  return send(host, o.get !== undefined ? 'GET' : 'POST', o.get !== undefined ? `/?${o.get}` : '/', headers, body.text);
}
async function ok(action: string, params: object = {}, o: CallOpts = {}) {
  const r = await call(action, params, o);
  if (r.status !== 200 || r.body?.Response?.Error) throw new Error(`${action}: ${r.status} ${r.text}`);
  return r.body.Response;
}
const code = (r: Answer) => r.body?.Response?.Error?.Code;

describe('signatures', () => {
  it('accepts a TC3-signed call and answers in the API 3.0 envelope', async () => {
    const r = await ok('DescribeRegions', {}, { region: null });
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.RegionSet.map((x: any) => x.Region)).toEqual(fake.regions);
    expect(fake.requests.at(-1)).toMatchObject({ service: 'cvm', action: 'DescribeRegions', secretId: fake.secretId, status: 200 });
    const viaGet = await ok('DescribeZones', {}, { get: '' });
    expect(viaGet.ZoneSet.map((z: any) => z.Zone)).toEqual(['ap-guangzhou-3', 'ap-guangzhou-4']);
    // GET with the flattened form (InstanceIds.0, Filters.0.Values.0), as the SDKs send it with reqMethod GET.
    const filtered = await ok('DescribeInstances', {}, { get: 'Offset=0&Limit=5&Filters.0.Name=zone&Filters.0.Values.0=ap-guangzhou-4' });
    expect(filtered.InstanceSet).toHaveLength(5);
    expect(filtered.InstanceSet.every((x: any) => x.Placement.Zone === 'ap-guangzhou-4')).toBe(true);
    const one = await ok('DescribeInstances', {}, { get: `InstanceIds.0=${filtered.InstanceSet[0].InstanceId}` });
    expect(one.InstanceSet.map((x: any) => x.InstanceId)).toEqual([filtered.InstanceSet[0].InstanceId]);
  });

  it('rejects a wrong key, an unknown SecretId, a tampered body, a stale timestamp and a scope for another service', async () => {
    const wrong = await call('DescribeInstances', {}, { secretKey: 'wrong' });
    expect([wrong.status, code(wrong)]).toEqual([200, 'AuthFailure.SignatureFailure']);
    expect(code(await call('DescribeInstances', {}, { secretId: 'AKIDnobody' }))).toBe('AuthFailure.SecretIdNotFound');
    const tampered = await call('DescribeInstances', { Limit: 1 }, { tamper: (_h, b) => { b.text = '{"Limit": 100}'; } });
    expect(code(tampered)).toBe('AuthFailure.SignatureFailure');
    const otherType = await call('DescribeInstances', {}, { tamper: (h) => { h['Content-Type'] = 'application/json'; } });
    expect(code(otherType)).toBe('AuthFailure.SignatureFailure');
    expect(code(await call('DescribeInstances', {}, { timestamp: 1551113065 }))).toBe('AuthFailure.SignatureExpire');
    expect(code(await call('DescribeVpcs', {}, { service: 'vpc', scopeService: 'cvm' }))).toBe('AuthFailure.InvalidAuthorization');
    expect(code(await call('DescribeInstances', {}, { tamper: (h) => { delete h.Authorization; } }))).toBe('AuthFailure.InvalidAuthorization');
  });
});

describe('the API surface', () => {
  it('answers unknown actions, versions, parameters, types and regions with the cloud’s errors', async () => {
    expect(code(await call('DescribeInstancez'))).toBe('InvalidAction');
    expect(code(await call('DescribeVpcs'))).toBe('InvalidAction'); // a VPC action sent to CVM
    expect(code(await call('DescribeInstances', {}, { version: '2017-03-13' }))).toBe('NoSuchVersion');
    expect(code(await call('DescribeInstances', { Limt: 10 }))).toBe('UnknownParameter');
    expect(code(await call('DescribeInstances', { Limit: '10' }))).toBe('InvalidParameter');
    expect(code(await call('DescribeInstances', { Limit: 101 }))).toBe('InvalidParameterValue');
    expect(code(await call('DescribeInstances', { InstanceIds: 'ins-1' }))).toBe('InvalidParameter');
    expect(code(await call('DescribeInstances', {}, { region: 'ap-nowhere' }))).toBe('UnsupportedRegion');
    expect(code(await call('DescribeInstances', {}, { region: null }))).toBe('MissingParameter');
    expect(code(await call('DescribeInstances', { Filters: [{ Name: 'colour', Values: ['red'] }] }))).toBe('InvalidParameterValue');
  });

  it('pages through 10k instances with Offset/Limit', async () => {
    const seen = new Set<string>();
    let calls = 0;
    for (const region of fake.regions) {
      for (let offset = 0; ; offset += 100) {
        const r = await ok('DescribeInstances', { Offset: offset, Limit: 100 }, { region });
        calls++;
        expect(r.TotalCount).toBe(2000);
        for (const x of r.InstanceSet) seen.add(x.InstanceId);
        if (offset + 100 >= r.TotalCount) break;
      }
    }
    expect(seen.size).toBe(10_000);
    expect(calls).toBe(100);
    const first = (await ok('DescribeInstances', { Limit: 1 }, { region: 'ap-shanghai' })).InstanceSet[0];
    expect(first).toMatchObject({ InstanceId: expect.stringMatching(/^ins-[0-9a-z]{8}$/), Placement: { Zone: 'ap-shanghai-1' },
      VirtualPrivateCloud: { VpcId: expect.stringMatching(/^vpc-/), SubnetId: expect.stringMatching(/^subnet-/) }, SystemDisk: { DiskType: 'CLOUD_PREMIUM' },
      Tags: [{ Key: 'project', Value: 'proj-1' }, { Key: 'env', Value: 'prod' }] });
    const byDefault = await ok('DescribeInstances', {}, { region: 'ap-beijing' });
    expect(byDefault.InstanceSet).toHaveLength(20);
    const stopped = await ok('DescribeInstances', { Filters: [{ Name: 'instance-state', Values: ['STOPPED'] }, { Name: 'zone', Values: ['ap-beijing-2'] }], Limit: 100 }, { region: 'ap-beijing' });
    expect(stopped.TotalCount).toBeGreaterThan(0);
    expect(stopped.InstanceSet.every((x: any) => x.InstanceState === 'STOPPED' && x.Placement.Zone === 'ap-beijing-2')).toBe(true);
  });

  it('lists zones, VPCs, subnets, security groups, disks, snapshots, images, addresses and key pairs', async () => {
    const vpcs = await ok('DescribeVpcs', { Offset: '0', Limit: '100' }, { service: 'vpc' });
    expect(vpcs.TotalCount).toBe(1);
    expect((await ok('DescribeSubnets', { Filters: [{ Name: 'vpc-id', Values: [vpcs.VpcSet[0].VpcId] }] }, { service: 'vpc' })).SubnetSet).toHaveLength(2);
    expect((await ok('DescribeSecurityGroups', {}, { service: 'vpc' })).SecurityGroupSet).toHaveLength(2);
    expect((await ok('DescribeDisks', { Limit: 100 }, { service: 'cbs' })).TotalCount).toBe(2400);
    expect((await ok('DescribeSnapshots', {}, { service: 'cbs' })).TotalCount).toBe(200);
    expect((await ok('DescribeImages')).ImageSet).toHaveLength(3);
    expect((await ok('DescribeAddresses', {}, { service: 'vpc' })).TotalCount).toBe(20);
    expect((await ok('DescribeKeyPairs')).KeyPairSet).toHaveLength(2);
  });
});

describe('operations', () => {
  const region = 'ap-singapore';
  const pick = (state: string) => fake.state.instances().find((i) => i.Region === region && i.InstanceState === state && !i.DisableApiTermination && !i.PublicIpAddresses);

  it('stops, resizes, starts, reboots and terminates instances, refusing wrong states', async () => {
    const x = fake.state.instances().find((i) => i.Placement.Zone === `${region}-2` && i.InstanceState === 'RUNNING' && !i.DisableApiTermination && !i.PublicIpAddresses);
    expect(code(await call('StartInstances', { InstanceIds: [x.InstanceId] }, { region }))).toBe('UnsupportedOperation.InstanceStateRunning');
    await ok('StopInstances', { InstanceIds: [x.InstanceId], StopType: 'SOFT' }, { region });
    expect(fake.state.instance(x.InstanceId)).toMatchObject({ InstanceState: 'STOPPED', LatestOperation: 'StopInstances', LatestOperationState: 'SUCCESS' });
    // S6 is not offered in the second zone of a region.
    expect(code(await call('ResetInstancesType', { InstanceIds: [x.InstanceId], InstanceType: 'S6.MEDIUM4' }, { region }))).toBe('ResourcesSoldOut.SpecifiedInstanceType');
    expect(code(await call('ResetInstancesType', { InstanceIds: [x.InstanceId], InstanceType: 'S9.HUGE' }, { region }))).toBe('InvalidInstanceType.Malformed');
    await ok('ResetInstancesType', { InstanceIds: [x.InstanceId], InstanceType: 'S5.LARGE8' }, { region });
    expect(fake.state.instance(x.InstanceId)).toMatchObject({ InstanceType: 'S5.LARGE8', CPU: 4, Memory: 8 });
    await ok('StartInstances', { InstanceIds: [x.InstanceId] }, { region });
    await ok('RebootInstances', { InstanceIds: [x.InstanceId] }, { region });
    await ok('TerminateInstances', { InstanceIds: [x.InstanceId] }, { region });
    expect(code(await call('StopInstances', { InstanceIds: [x.InstanceId] }, { region }))).toBe('InvalidInstanceId.NotFound');
    const prot = fake.state.instances().find((i) => i.DisableApiTermination);
    expect(code(await call('TerminateInstances', { InstanceIds: [prot.InstanceId] }, { region: prot.Region }))).toBe('UnsupportedOperation');
  });

  it('creates instances, refusing a type the zone does not offer, and honours DryRun', async () => {
    const subnets = fake.state.subnets().filter((s) => s.Region === region);
    const sg = fake.state.securityGroups().find((g) => g.Region === region);
    const key = fake.state.keyPairs().find((k) => k.Region === region);
    const base = { ImageId: 'img-487zeit5', SecurityGroupIds: [sg.SecurityGroupId], LoginSettings: { KeyIds: [key.KeyId] }, InstanceChargeType: 'POSTPAID_BY_HOUR',
      SystemDisk: { DiskType: 'CLOUD_PREMIUM', DiskSize: 60 }, DataDisks: [{ DiskType: 'CLOUD_PREMIUM', DiskSize: 200 }],
      TagSpecification: [{ ResourceType: 'instance', Tags: [{ Key: 'owner', Value: 'skydeck' }] }] };
    const sold = await call('RunInstances', { ...base, InstanceType: 'S6.MEDIUM4', Placement: { Zone: subnets[1].Zone }, VirtualPrivateCloud: { VpcId: subnets[1].VpcId, SubnetId: subnets[1].SubnetId } }, { region });
    expect(code(sold)).toBe('ResourcesSoldOut.SpecifiedInstanceType');
    const where = { Placement: { Zone: subnets[0].Zone }, VirtualPrivateCloud: { VpcId: subnets[0].VpcId, SubnetId: subnets[0].SubnetId } };
    expect(code(await call('RunInstances', { ...base, ...where, InstanceType: 'S5.MEDIUM4', DryRun: true }, { region }))).toBe('DryRunOperation');
    expect(code(await call('RunInstances', { ...base, ...where, InstanceType: 'S5.MEDIUM4', Placement: { Zone: 'ap-guangzhou-3' } }, { region }))).toBe('InvalidZone.MismatchRegion');
    const r = await ok('RunInstances', { ...base, ...where, InstanceType: 'S6.MEDIUM4', InstanceCount: 2, InstanceName: 'new-vm' }, { region });
    expect(r.InstanceIdSet).toHaveLength(2);
    const got = await ok('DescribeInstances', { InstanceIds: r.InstanceIdSet }, { region });
    expect(got.InstanceSet.map((i: any) => [i.InstanceName, i.InstanceState, i.Placement.Zone, i.LoginSettings.KeyIds[0]]))
      .toEqual([['new-vm', 'RUNNING', subnets[0].Zone, key.KeyId], ['new-vm', 'RUNNING', subnets[0].Zone, key.KeyId]]);
    expect(got.InstanceSet[0]).toMatchObject({ Tags: [{ Key: 'owner', Value: 'skydeck' }], SystemDisk: { DiskSize: 60 }, DataDisks: [{ DiskSize: 200 }] });
  });

  it('detaches and attaches a disk, snapshots it and deletes the snapshot (CBS)', async () => {
    const data = fake.state.disks().find((d) => d.Region === region && d.DiskUsage === 'DATA_DISK' && d.Attached);
    const sys = fake.state.disks().find((d) => d.InstanceId === data.InstanceId && d.DiskUsage === 'SYSTEM_DISK');
    expect(code(await call('DetachDisks', { DiskIds: [sys.DiskId] }, { region, service: 'cbs' }))).toBe('UnsupportedOperation.NotSupportSystemDisk');
    await ok('DetachDisks', { DiskIds: [data.DiskId], InstanceId: data.InstanceId }, { region, service: 'cbs' });
    expect(fake.state.instance(data.InstanceId).DataDisks).toEqual([]);
    await ok('AttachDisks', { DiskIds: [data.DiskId], InstanceId: data.InstanceId }, { region, service: 'cbs' });
    expect(code(await call('AttachDisks', { DiskIds: [data.DiskId], InstanceId: data.InstanceId }, { region, service: 'cbs' }))).toBe('ResourceInUse.DiskAlreadyAttached');
    const s = await ok('CreateSnapshot', { DiskId: data.DiskId, SnapshotName: 'before-upgrade' }, { region, service: 'cbs' });
    expect(s.SnapshotId).toMatch(/^snap-/);
    const list = await ok('DescribeSnapshots', { Filters: [{ Name: 'disk-id', Values: [data.DiskId] }] }, { region, service: 'cbs' });
    expect(list.SnapshotSet.at(-1)).toMatchObject({ SnapshotName: 'before-upgrade', SnapshotState: 'NORMAL' });
    await ok('DeleteSnapshots', { SnapshotIds: [s.SnapshotId] }, { region, service: 'cbs' });
    expect(code(await call('DeleteSnapshots', { SnapshotIds: [s.SnapshotId] }, { region, service: 'cbs' }))).toBe('InvalidSnapshotId.NotFound');
  });

  it('associates and disassociates an EIP (VPC)', async () => {
    const x = pick('RUNNING');
    const eip = fake.state.addresses().find((e) => e.Region === region && e.AddressStatus === 'UNBIND');
    expect((await ok('AssociateAddress', { AddressId: eip.AddressId, InstanceId: x.InstanceId }, { region, service: 'vpc' })).TaskId).toBeTruthy();
    expect(fake.state.instance(x.InstanceId).PublicIpAddresses).toEqual([eip.AddressIp]);
    expect(code(await call('AssociateAddress', { AddressId: eip.AddressId, InstanceId: x.InstanceId }, { region, service: 'vpc' }))).toBe('InvalidAddressIdStatus.NotPermit');
    await ok('DisassociateAddress', { AddressId: eip.AddressId }, { region, service: 'vpc' });
    expect(fake.state.addresses().find((e) => e.AddressId === eip.AddressId)).toMatchObject({ AddressStatus: 'UNBIND', InstanceId: null });
  });

  it('creates and deletes security group policies (VPC)', async () => {
    const sg = fake.state.securityGroups().find((g) => g.Region === region);
    const before = fake.state.securityGroupPolicies(sg.SecurityGroupId)!;
    await ok('CreateSecurityGroupPolicies', { SecurityGroupId: sg.SecurityGroupId, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'tcp', Port: '8080', CidrBlock: '10.0.0.0/8', Action: 'accept' }] } }, { region, service: 'vpc' });
    const now = await ok('DescribeSecurityGroupPolicies', { SecurityGroupId: sg.SecurityGroupId }, { region, service: 'vpc' });
    expect(now.SecurityGroupPolicySet.Version).toBe(String(Number(before.Version) + 1));
    expect(now.SecurityGroupPolicySet.Ingress.at(-1)).toMatchObject({ PolicyIndex: before.Ingress.length, Protocol: 'TCP', Port: '8080', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' });
    expect(code(await call('CreateSecurityGroupPolicies', { SecurityGroupId: sg.SecurityGroupId, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '80:90', Action: 'ACCEPT' }] } }, { region, service: 'vpc' })))
      .toBe('InvalidParameterValue');
    await ok('DeleteSecurityGroupPolicies', { SecurityGroupId: sg.SecurityGroupId, SecurityGroupPolicySet: { Ingress: [{ PolicyIndex: before.Ingress.length }] } }, { region, service: 'vpc' });
    expect(fake.state.securityGroupPolicies(sg.SecurityGroupId)!.Ingress).toHaveLength(before.Ingress.length);
  });

  it('answers a VNC URL for a running instance', async () => {
    const x = pick('RUNNING');
    expect((await ok('DescribeInstanceVncUrl', { InstanceId: x.InstanceId }, { region })).InstanceVncUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/vnc\?s=[0-9a-f]{48}$/);
  });
});

describe('fault injection', () => {
  it('throttles the next N matching requests, then answers normally', async () => {
    fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 2 });
    expect(code(await call('DescribeZones'))).toBeUndefined();
    expect(code(await call('DescribeInstances'))).toBe('RequestLimitExceeded');
    expect(code(await call('DescribeInstances'))).toBe('RequestLimitExceeded');
    expect(code(await call('DescribeInstances'))).toBeUndefined();
  });

  it('injects gateway 5xx, internal, permission, quota, zone and region errors and dropped connections', async () => {
    fake.inject({ kind: 'http-502' });
    const gw = await call('DescribeRegions', {}, { region: null });
    expect([gw.status, gw.body]).toEqual([502, null]);
    for (const [kind, c] of [['internal', 'InternalError'], ['unavailable', 'ServiceUnavailable'], ['forbidden', 'UnauthorizedOperation'], ['quota', 'LimitExceeded.InstanceQuota'],
      ['zone-type', 'ResourcesSoldOut.SpecifiedInstanceType'], ['region', 'UnsupportedRegion'], ['throttle-uin', 'RequestLimitExceeded.UinLimitExceeded']] as const) {
      fake.inject({ kind });
      expect(code(await call('DescribeZones'))).toBe(c);
    }
    fake.inject({ kind: 'forbidden', service: 'cbs', times: Infinity });
    expect(code(await call('DescribeDisks', {}, { service: 'cbs' }))).toBe('UnauthorizedOperation');
    expect(code(await call('DescribeZones'))).toBeUndefined();
    fake.clearFaults();
    expect(code(await call('DescribeDisks', {}, { service: 'cbs' }))).toBeUndefined();
    fake.inject({ kind: 'reset' });
    await expect(call('DescribeZones')).rejects.toThrow();
    const small = await startTencentFake({ instances: 5, regions: 1, instanceQuota: 5 });
    try {
      const sn = small.state.subnets()[0];
      const s = signTc3({ secretId: small.secretId, secretKey: small.secretKey, service: 'cvm', host: '127.0.0.1', action: 'RunInstances', version: '2017-03-12', region: 'ap-guangzhou',
        payload: JSON.stringify({ ImageId: 'img-487zeit5', InstanceType: 'S5.MEDIUM4', Placement: { Zone: sn.Zone }, VirtualPrivateCloud: { VpcId: sn.VpcId, SubnetId: sn.SubnetId } }) });
      const { Host: _h, ...headers } = s.headers;
      const r = await fetch(`${small.url}/`, { method: 'POST', headers, body: s.payload });
      expect(((await r.json()) as any).Response.Error.Code).toBe('LimitExceeded.InstanceQuota');
    } finally {
      await small.close();
    }
  });
});
