// A loopback fake of Tencent Cloud API 3.0 for CVM, VPC and CBS (all 2017-03-12) for tests and benchmarks.
//
//   const fake = await startTencentFake({ instances: 10_000 });
//   new cvm.v20170312.Client({ credential: { secretId: fake.secretId, secretKey: fake.secretKey }, region: 'ap-guangzhou',
//     profile: { httpProfile: { endpoint: fake.endpoints.cvm, protocol: 'http://', agent: fake.agent } } });
//   fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 2 });
//   await fake.close();
//
// The SDKs take the service of the credential scope from the endpoint's first label (the Node SDK:
// `this.endpoint.split(".")[0]`), so the fake is reached through real host names with the fake's port
// (cvm.tencentcloudapi.com:PORT …) and an http.Agent (`fake.agent`) whose lookup sends every *.tencentcloudapi.com
// connection to 127.0.0.1; the product is the Host's first label (or the credential's service for a bare IP).
// Every request's TC3-HMAC-SHA256 signature is verified with ./signature.mjs (written from Tencent's document, not from
// the SDK); the signed host is the Host without its port (real endpoints have none; the Node SDK signs URL.hostname).
// Then action, version, region and parameters (names and types) are checked as the API reference defines them, and the
// answer is {"Response": {…, "RequestId"}} with TotalCount (Offset/Limit paging), errors as
// {"Response": {"Error": {"Code", "Message"}, "RequestId"}} with HTTP 200, as Tencent Cloud answers them.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { Agent, createServer } from 'node:http';
import { createVncRelay } from '../vnc-relay.mjs';
import { parseTc3Authorization, tc3CanonicalRequest, tc3Signature, tc3StringToSign, utcDate } from './signature.mjs';
import { MONITOR_VERSION, inquiryPriceApi, monitorApi } from './monitor.mjs';

export const DEFAULT_SECRET_ID = 'AKIDSkydeckFakeSecretId000000000001';
export const DEFAULT_SECRET_KEY = 'SkydeckFakeSecretKeyDoNotUse0001';
const VERSION = '2017-03-12';
const REGIONS = [
  ['ap-guangzhou', '华南地区(广州)'], ['ap-shanghai', '华东地区(上海)'], ['ap-beijing', '华北地区(北京)'],
  ['ap-singapore', '亚太东南(新加坡)'], ['na-siliconvalley', '美国西部(硅谷)'],
];
/** [type, family, CPU, memory GB, offered in the second zone of each region] */
const TYPES = [
  ['S5.MEDIUM4', 'S5', 2, 4, true], ['S5.LARGE8', 'S5', 4, 8, true], ['SA2.MEDIUM4', 'SA2', 2, 4, true], ['S6.MEDIUM4', 'S6', 2, 4, false],
];
const IMAGES = [
  ['img-487zeit5', 'TencentOS Server 3.1 (TK4)', 'TencentOS', 'LINUX_UNIX'], ['img-22trbn9x', 'Ubuntu Server 22.04 LTS 64位', 'Ubuntu', 'LINUX_UNIX'],
  ['img-9id7emv7', 'Windows Server 2022 数据中心版 64位中文版', 'Windows', 'WINDOWS'],
];

/** Preset faults: [HTTP status, Code, Message]; Tencent answers API errors with HTTP 200, gateway failures with 5xx. */
export const TENCENT_FAULTS = {
  throttle: [200, 'RequestLimitExceeded', 'Your current request times equals to `20` in a second, which exceeds the frequency limit `20` for a second. Please reduce the frequency of calls.'],
  'throttle-uin': [200, 'RequestLimitExceeded.UinLimitExceeded', 'Your request frequency for this account exceeds the limit. Please reduce the frequency of calls.'],
  internal: [200, 'InternalError', 'An internal error has occurred. Retry your request, but if the problem persists, contact us.'],
  unavailable: [200, 'ServiceUnavailable', 'Service is unavailable now.'],
  'http-502': [502, '', 'Bad Gateway'],
  'http-503': [503, '', 'Service Unavailable'],
  quota: [200, 'LimitExceeded.InstanceQuota', 'Your current quota does not allow you to specified the value `1` in the parameter `InstanceCount`.'],
  'zone-type': [200, 'ResourcesSoldOut.SpecifiedInstanceType', 'The specified instance type is sold out in the zone.'],
  region: [200, 'UnsupportedRegion', 'The API does not support this region.'],
  forbidden: [200, 'UnauthorizedOperation', 'You are not authorized to perform this operation. Check your CAM policies, and ensure that you are using the correct Tencent Cloud API keys.'],
};

class ApiError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const err = (code, message) => new ApiError(code, message);
const missing = (name) => err('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
const bad = (name, why = 'is invalid') => err('InvalidParameter', `The parameter \`${name}\` ${why}.`);
const badValue = (name, why = 'is invalid') => err('InvalidParameterValue', `The value of the parameter \`${name}\` ${why}.`);

function idOf(seed, prefix, kind, n) {
  const h = createHash('sha1').update(`${seed}/${kind}/${n}`).digest();
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < 8; i++) s += alphabet[(h[i] ?? 0) % 36];
  return `${prefix}-${s}`;
}
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const plain = (ms) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');

function buildWorld(o) {
  const rnd = prng(o.seed);
  const base = Date.UTC(2024, 0, 1);
  const w = {
    regions: REGIONS.slice(0, o.regions).map(([id, name], ri) => ({ id, name, zones: [`${id}-${ri === 0 ? 3 : 1}`, `${id}-${ri === 0 ? 4 : 2}`] })),
    vpcs: new Map(), subnets: new Map(), groups: new Map(), instances: new Map(), disks: new Map(), snapshots: new Map(), keys: new Map(), eips: new Map(), seq: 0,
  };
  for (const [ri, r] of w.regions.entries()) {
    const vpc = { VpcId: idOf(o.seed, 'vpc', 'vpc', ri), VpcName: 'Default-VPC', CidrBlock: `172.${16 + ri}.0.0/16`, IsDefault: true, EnableMulticast: false,
      CreatedTime: plain(base), TagSet: [], region: r.id };
    w.vpcs.set(vpc.VpcId, vpc);
    r.zones.forEach((z, zi) => {
      const s = { VpcId: vpc.VpcId, SubnetId: idOf(o.seed, 'subnet', 'subnet', ri * 10 + zi), SubnetName: `Default-Subnet-${zi}`, CidrBlock: `172.${16 + ri}.${zi * 16}.0/20`,
        IsDefault: true, Zone: z, AvailableIpAddressCount: 4000, TotalIpAddressCount: 4093, CreatedTime: plain(base), TagSet: [], region: r.id };
      w.subnets.set(s.SubnetId, s);
    });
    for (let g = 0; g < 2; g++) {
      const sg = { SecurityGroupId: idOf(o.seed, 'sg', 'sg', ri * 10 + g), SecurityGroupName: g ? 'web' : 'default', SecurityGroupDesc: g ? 'http and https' : 'ssh',
        ProjectId: '0', IsDefault: !g, CreatedTime: plain(base), TagSet: [], region: r.id, version: 1, ingress: [], egress: [] };
      const rule = (port) => ({ Protocol: 'TCP', Port: port, CidrBlock: '0.0.0.0/0', Action: 'ACCEPT', PolicyDescription: '', ModifyTime: plain(base) });
      sg.ingress.push(...(g ? [rule('80'), rule('443')] : [rule('22')]));
      sg.egress.push({ Protocol: 'ALL', Port: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT', PolicyDescription: '', ModifyTime: plain(base) });
      w.groups.set(sg.SecurityGroupId, sg);
    }
    for (let k = 0; k < 2; k++) {
      const key = { KeyId: idOf(o.seed, 'skey', 'key', ri * 10 + k), KeyName: `skydeck_key_${k}`, ProjectId: 0, Description: '',
        PublicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${createHash('sha256').update(`${o.seed}/${ri}/${k}`).digest('base64').slice(0, 43)} skydeck`,
        AssociatedInstanceIds: [], CreatedTime: iso(base), region: r.id };
      w.keys.set(key.KeyId, key);
    }
    for (let e = 0; e < 20; e++) {
      const eip = { AddressId: idOf(o.seed, 'eip', 'eip', ri * 100 + e), AddressName: '', AddressStatus: 'UNBIND', AddressIp: `43.${128 + ri}.0.${e + 1}`,
        InstanceId: null, CreatedTime: iso(base), NetworkInterfaceId: null, PrivateAddressIp: null, IsArrears: false, IsBlocked: false,
        IsEipDirectConnection: false, AddressType: 'EIP', CascadeRelease: false, InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR', Bandwidth: 5, region: r.id };
      w.eips.set(eip.AddressId, eip);
    }
  }
  for (let i = 0; i < o.instances; i++) {
    const r = w.regions[i % w.regions.length];
    if (!r) break;
    const per = Math.floor(i / w.regions.length);
    const zi = per % 2;
    const ri = w.regions.indexOf(r);
    const type = TYPES[Math.floor(rnd() * (zi ? 3 : 4))] ?? TYPES[0];
    const x = newInstance(w, o.seed, {
      region: r.id, zone: r.zones[zi], vpc: idOf(o.seed, 'vpc', 'vpc', ri), subnet: idOf(o.seed, 'subnet', 'subnet', ri * 10 + zi), type: type[0],
      image: (IMAGES[i % IMAGES.length] ?? IMAGES[0])[0], groups: [idOf(o.seed, 'sg', 'sg', ri * 10 + (i % 2))], name: `vm-${String(i).padStart(5, '0')}`,
      state: rnd() < 0.8 ? 'RUNNING' : 'STOPPED', created: base + i * 60_000, keys: per % 3 ? [idOf(o.seed, 'skey', 'key', ri * 10)] : [],
      dataDisks: per % 5 === 0 ? [{ DiskSize: 100, DiskType: 'CLOUD_PREMIUM' }] : [], tags: [{ Key: 'project', Value: `proj-${i % 7}` }, { Key: 'env', Value: i % 2 ? 'prod' : 'dev' }],
      protect: i % 97 === 0,
    });
    if (per % 10 === 0) {
      const sid = idOf(o.seed, 'snap', 'snap', i);
      w.snapshots.set(sid, { SnapshotId: sid, SnapshotName: `${x.InstanceName}-daily`, DiskId: x.SystemDisk.DiskId, DiskSize: x.SystemDisk.DiskSize,
        DiskUsage: 'SYSTEM_DISK', SnapshotState: 'NORMAL', Percent: 100, CreateTime: plain(base + i * 60_000 + 3_600_000), Placement: { Zone: x.Placement.Zone }, Encrypt: false, region: r.id });
    }
  }
  for (const r of w.regions) {
    const eips = [...w.eips.values()].filter((e) => e.region === r.id).slice(0, 5);
    const xs = [...w.instances.values()].filter((x) => x.region === r.id).slice(0, 5);
    eips.forEach((e, k) => bind(e, xs[k]));
  }
  return w;
}

function newInstance(w, seed, s) {
  const n = w.seq++;
  const t = TYPES.find((x) => x[0] === s.type) ?? TYPES[0];
  const InstanceId = idOf(seed, 'ins', 'ins', n);
  const disk = (usage, size, type, k) => {
    const d = { DiskId: idOf(seed, 'disk', 'disk', `${n}/${k}`), DiskUsage: usage, DiskChargeType: 'POSTPAID_BY_HOUR', Portable: usage === 'DATA_DISK',
      Placement: { Zone: s.zone, ProjectId: 0 }, DiskName: '', DiskSize: size, DiskState: 'ATTACHED', DiskType: type, Attached: true, InstanceId,
      CreateTime: plain(s.created), DeleteWithInstance: true, Encrypt: false, region: s.region };
    w.disks.set(d.DiskId, d);
    return d;
  };
  const sys = disk('SYSTEM_DISK', s.systemDisk?.DiskSize ?? 50, s.systemDisk?.DiskType ?? 'CLOUD_PREMIUM', 0);
  const data = (s.dataDisks ?? []).map((d, k) => disk('DATA_DISK', d.DiskSize, d.DiskType ?? 'CLOUD_PREMIUM', k + 1));
  const x = {
    InstanceId, InstanceName: s.name || '未命名', InstanceType: t[0], CPU: t[2], Memory: t[3], InstanceState: s.state, region: s.region,
    Placement: { Zone: s.zone, ProjectId: 0, HostId: null }, ImageId: s.image, OsName: IMAGES.find((i) => i[0] === s.image)?.[1] ?? '',
    SystemDisk: { DiskType: sys.DiskType, DiskId: sys.DiskId, DiskSize: sys.DiskSize }, dataDisks: data.map((d) => d.DiskId),
    VirtualPrivateCloud: { VpcId: s.vpc, SubnetId: s.subnet, AsVpcGateway: false },
    PrivateIpAddresses: [`172.${16 + w.regions.findIndex((r) => r.id === s.region)}.${s.zone.endsWith('4') || s.zone.endsWith('2') ? 16 : 0}.${(n % 250) + 3}`],
    SecurityGroupIds: [...s.groups], LoginSettings: { KeyIds: [...(s.keys ?? [])] }, Tags: s.tags ?? [], DisableApiTermination: !!s.protect,
    CreatedTime: iso(s.created), eip: null, pending: null, InternetAccessible: { InternetChargeType: 'TRAFFIC_POSTPAID_BY_HOUR', InternetMaxBandwidthOut: s.bandwidth ?? 0, PublicIpAssigned: false },
    LatestOperation: null, LatestOperationState: null, LatestOperationRequestId: null,
  };
  w.instances.set(InstanceId, x);
  for (const k of x.LoginSettings.KeyIds) w.keys.get(k)?.AssociatedInstanceIds.push(InstanceId);
  return x;
}

function bind(eip, x) {
  if (!eip || !x) return;
  Object.assign(eip, { AddressStatus: 'BIND', InstanceId: x.InstanceId, PrivateAddressIp: x.PrivateIpAddresses[0] });
  x.eip = eip.AddressId;
}

function settle(x, now) {
  if (x.pending && x.pending.at <= now) {
    x.InstanceState = x.pending.state;
    x.LatestOperationState = 'SUCCESS';
    x.pending = null;
  }
  return x;
}

function instanceView(w, x) {
  const eip = x.eip ? w.eips.get(x.eip) : null;
  const { region: _r, eip: _e, pending: _p, dataDisks, ...rest } = x;
  return {
    ...rest, Placement: { ...x.Placement }, SystemDisk: { ...x.SystemDisk }, VirtualPrivateCloud: { ...x.VirtualPrivateCloud },
    DataDisks: dataDisks.map((id) => w.disks.get(id)).filter(Boolean).map((d) => ({ DiskSize: d.DiskSize, DiskType: d.DiskType, DiskId: d.DiskId, DeleteWithInstance: d.DeleteWithInstance, Encrypt: false })),
    PrivateIpAddresses: [...x.PrivateIpAddresses], PublicIpAddresses: eip ? [eip.AddressIp] : null, SecurityGroupIds: [...x.SecurityGroupIds],
    LoginSettings: { KeyIds: [...x.LoginSettings.KeyIds] }, Tags: x.Tags.map((t) => ({ ...t })), InternetAccessible: { ...x.InternetAccessible },
    InstanceChargeType: 'POSTPAID_BY_HOUR', RestrictState: 'NORMAL', RenewFlag: null, ExpiredTime: null, StopChargingMode: x.InstanceState === 'STOPPED' ? 'KEEP_CHARGING' : 'NOT_APPLICABLE',
    Uuid: createHash('md5').update(x.InstanceId).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'), IPv6Addresses: null,
    DefaultLoginUser: x.OsName.startsWith('Windows') ? 'Administrator' : 'root', DefaultLoginPort: x.OsName.startsWith('Windows') ? 3389 : 22,
  };
}
const strip = ({ region: _r, ...x }) => x;

/** Offset/Limit paging (CVM, CBS: integers; VPC list calls take them as strings). */
function page(all, p, max, def = 20, strings = false) {
  const num = (name, d) => {
    const v = p[name];
    if (v === undefined) return d;
    if (strings ? !/^\d+$/.test(String(v)) : !Number.isInteger(v)) throw bad(name, strings ? 'must be a string of digits' : 'must be an integer');
    return Number(v);
  };
  const offset = num('Offset', 0);
  const limit = num('Limit', def);
  if (limit < 0 || limit > max) throw badValue('Limit', `must be between 0 and ${max}`);
  return all.slice(offset, offset + limit);
}
/** Filters: [{Name, Values}] against a map of filter name → (item, value) predicate. */
function filtered(all, p, defs) {
  const fs = p.Filters ?? [];
  if (!Array.isArray(fs)) throw bad('Filters', 'must be an array');
  for (const f of fs) {
    if (!f || typeof f.Name !== 'string' || !Array.isArray(f.Values)) throw bad('Filters', 'must be a list of {Name, Values}');
    if (!defs[f.Name] && !f.Name.startsWith('tag:')) throw badValue('Filters.Name', `\`${f.Name}\` is not supported`);
  }
  return all.filter((x) => fs.every((f) => f.Values.some((v) => (f.Name.startsWith('tag:') ? x.Tags?.some((t) => t.Key === f.Name.slice(4) && t.Value === v) : defs[f.Name](x, String(v))))));
}
function strList(p, name, max = 100) {
  const v = p[name];
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(name, 'must be a list of strings');
  if (v.length > max) throw badValue(name, `must have at most ${max} items`);
  return v;
}

/**
 * @param {import('./fake.d.mts').TencentFakeOptions} [opts]
 * @returns {Promise<import('./fake.d.mts').TencentFake>}
 */
export async function startTencentFake(opts = {}) {
  const o = {
    seed: opts.seed ?? 1, instances: opts.instances ?? 10_000, regions: Math.min(opts.regions ?? 5, REGIONS.length),
    secretId: opts.secretId ?? DEFAULT_SECRET_ID, secretKey: opts.secretKey ?? DEFAULT_SECRET_KEY, transitionMs: opts.transitionMs ?? 0,
    clockSkewMs: opts.clockSkewMs ?? 5 * 60_000, instanceQuota: opts.instanceQuota ?? Infinity,
  };
  const secrets = new Map([[o.secretId, o.secretKey], ...Object.entries(opts.accounts ?? {})]);
  const w = buildWorld(o);
  const vnc = createVncRelay({ path: '/vnc', ttlMs: opts.vncUrlTtlMs, target: opts.vnc ?? null });
  const requests = [];
  let faults = [];
  let faultSeq = 0;
  const now = () => Date.now();

  const regionOf = (ctx) => {
    if (!ctx.region) throw missing('Region');
    if (!w.regions.some((r) => r.id === ctx.region)) throw err('UnsupportedRegion', `The API does not support this region: ${ctx.region}.`);
    return w.regions.find((r) => r.id === ctx.region);
  };
  const inst = (ctx, id) => {
    const x = w.instances.get(id);
    if (!x || x.region !== ctx.region) throw err('InvalidInstanceId.NotFound', `The instance \`${id}\` does not exist.`);
    return settle(x, now());
  };
  const insts = (ctx, p) => {
    const ids = strList(p, 'InstanceIds');
    if (!ids || !ids.length) throw missing('InstanceIds');
    return ids.map((id) => inst(ctx, id));
  };
  const transition = (x, via, to, op, ctx) => {
    x.InstanceState = via;
    x.pending = { state: to, at: now() + o.transitionMs };
    Object.assign(x, { LatestOperation: op, LatestOperationState: 'OPERATING', LatestOperationRequestId: ctx.requestId });
    settle(x, now());
  };
  const notRunning = (x) => err('UnsupportedOperation.InstanceStateStopped', `The instance \`${x.InstanceId}\` is not running.`);
  const notStopped = (x) => err('UnsupportedOperation.InstanceStateRunning', `The instance \`${x.InstanceId}\` is running.`);
  const typeIn = (name, zone) => {
    const t = TYPES.find((x) => x[0] === name);
    if (!t) throw err('InvalidInstanceType.Malformed', `The instance type \`${name}\` is not valid.`);
    if (!t[4] && (zone.endsWith('-4') || zone.endsWith('-2'))) throw err('ResourcesSoldOut.SpecifiedInstanceType', `The instance type \`${name}\` is sold out in \`${zone}\`.`);
    return t;
  };
  const group = (ctx, id) => {
    if (!id) throw missing('SecurityGroupId');
    const g = w.groups.get(id);
    if (!g || g.region !== ctx.region) throw err('ResourceNotFound', `The security group \`${id}\` does not exist.`);
    return g;
  };
  const disk = (ctx, id) => {
    const d = w.disks.get(id);
    if (!d || d.region !== ctx.region) throw err('InvalidDiskId.NotFound', `The disk \`${id}\` does not exist.`);
    return d;
  };
  const eipOf = (ctx, id) => {
    if (!id) throw missing('AddressId');
    const e = w.eips.get(id);
    if (!e || e.region !== ctx.region) throw err('InvalidAddressId.NotFound', `The address \`${id}\` does not exist.`);
    return e;
  };
  const terminate = (x) => {
    for (const id of [x.SystemDisk.DiskId, ...x.dataDisks]) {
      const d = w.disks.get(id);
      if (!d) continue;
      if (d.DeleteWithInstance) w.disks.delete(id);
      else Object.assign(d, { DiskState: 'UNATTACHED', Attached: false, InstanceId: '' });
    }
    if (x.eip) Object.assign(w.eips.get(x.eip) ?? {}, { AddressStatus: 'UNBIND', InstanceId: null, PrivateAddressIp: null });
    for (const k of x.LoginSettings.KeyIds) {
      const key = w.keys.get(k);
      if (key) key.AssociatedInstanceIds = key.AssociatedInstanceIds.filter((i) => i !== x.InstanceId);
    }
    w.instances.delete(x.InstanceId);
  };
  const rules = (p, forDelete) => {
    const set = p.SecurityGroupPolicySet;
    if (!set || typeof set !== 'object') throw missing('SecurityGroupPolicySet');
    const out = [];
    for (const dir of ['Ingress', 'Egress']) {
      const list = set[dir] ?? [];
      if (!Array.isArray(list)) throw bad(`SecurityGroupPolicySet.${dir}`, 'must be an array');
      for (const r of list) {
        if (forDelete && r.PolicyIndex !== undefined) {
          out.push({ dir, index: r.PolicyIndex });
          continue;
        }
        const Protocol = String(r.Protocol ?? '').toUpperCase();
        if (!['TCP', 'UDP', 'ICMP', 'ICMPV6', 'GRE', 'ALL'].includes(Protocol)) throw badValue(`SecurityGroupPolicySet.${dir}.Protocol`, 'is not a supported protocol');
        const Port = String(r.Port ?? (Protocol === 'TCP' || Protocol === 'UDP' ? '' : 'ALL'));
        if (!/^(ALL|\d+(-\d+)?(,\d+)*)$/.test(Port)) throw badValue(`SecurityGroupPolicySet.${dir}.Port`, 'is malformed');
        const Action = String(r.Action ?? '').toUpperCase();
        if (Action !== 'ACCEPT' && Action !== 'DROP') throw badValue(`SecurityGroupPolicySet.${dir}.Action`, 'must be ACCEPT or DROP');
        out.push({ dir, rule: { Protocol, Port, CidrBlock: r.CidrBlock ?? '0.0.0.0/0', Action, PolicyDescription: r.PolicyDescription ?? '', ModifyTime: plain(now()) } });
      }
    }
    if (!out.length) throw missing('SecurityGroupPolicySet.Ingress');
    return out;
  };

  /** @type {Record<string, Record<string, { params: string[], region?: boolean, run: (p: any, ctx: any) => object }>>} */
  const api = {
    cvm: {
      DescribeRegions: { params: [], region: false, run: () => ({ TotalCount: w.regions.length, RegionSet: w.regions.map((r) => ({ Region: r.id, RegionName: r.name, RegionState: 'AVAILABLE' })) }) },
      DescribeZones: { params: [], run: (_p, ctx) => {
        const r = regionOf(ctx);
        return { TotalCount: r.zones.length, ZoneSet: r.zones.map((z, k) => ({ Zone: z, ZoneName: z, ZoneId: String(100000 + k + 1), ZoneState: 'AVAILABLE' })) };
      } },
      DescribeInstanceTypeConfigs: { params: ['Filters'], run: (p, ctx) => {
        const r = regionOf(ctx);
        const all = r.zones.flatMap((z) => TYPES.filter((t) => t[4] || !(z.endsWith('-4') || z.endsWith('-2'))).map((t) => ({ Zone: z, InstanceType: t[0], InstanceFamily: t[1], GPU: 0, CPU: t[2], Memory: t[3], FPGA: 0 })));
        return { InstanceTypeConfigSet: filtered(all, p, { zone: (x, v) => x.Zone === v, 'instance-family': (x, v) => x.InstanceFamily === v, 'instance-type': (x, v) => x.InstanceType === v }) };
      } },
      DescribeInstances: { params: ['InstanceIds', 'Filters', 'Offset', 'Limit'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'InstanceIds');
        if (ids && p.Filters) throw err('InvalidParameter.InstanceIdsFiltersConflict', 'InstanceIds and Filters cannot be specified at the same time.');
        const t = now();
        const mine = [...w.instances.values()].filter((x) => x.region === ctx.region && (!ids || ids.includes(x.InstanceId)));
        const all = filtered(mine, p, {
          zone: (x, v) => x.Placement.Zone === v, 'instance-id': (x, v) => x.InstanceId === v, 'instance-name': (x, v) => x.InstanceName === v,
          'instance-state': (x, v) => settle(x, t).InstanceState === v, 'vpc-id': (x, v) => x.VirtualPrivateCloud.VpcId === v,
          'subnet-id': (x, v) => x.VirtualPrivateCloud.SubnetId === v, 'instance-type': (x, v) => x.InstanceType === v,
          'private-ip-address': (x, v) => x.PrivateIpAddresses.includes(v), 'tag-key': (x, v) => x.Tags.some((tg) => tg.Key === v),
        });
        return { TotalCount: all.length, InstanceSet: page(all, p, 100).map((x) => instanceView(w, settle(x, t))) };
      } },
      StartInstances: { params: ['InstanceIds'], run: (p, ctx) => {
        const xs = insts(ctx, p);
        for (const x of xs) if (x.InstanceState !== 'STOPPED') throw notStopped(x);
        for (const x of xs) transition(x, 'STARTING', 'RUNNING', 'StartInstances', ctx);
        return {};
      } },
      StopInstances: { params: ['InstanceIds', 'ForceStop', 'StopType', 'StoppedMode'], run: (p, ctx) => {
        const xs = insts(ctx, p);
        for (const x of xs) if (x.InstanceState !== 'RUNNING') throw notRunning(x);
        for (const x of xs) transition(x, 'STOPPING', 'STOPPED', 'StopInstances', ctx);
        return {};
      } },
      RebootInstances: { params: ['InstanceIds', 'ForceReboot', 'StopType'], run: (p, ctx) => {
        const xs = insts(ctx, p);
        for (const x of xs) if (x.InstanceState !== 'RUNNING') throw notRunning(x);
        for (const x of xs) transition(x, 'REBOOTING', 'RUNNING', 'RebootInstances', ctx);
        return {};
      } },
      TerminateInstances: { params: ['InstanceIds', 'ReleaseNetworkResources', 'ReleasePrepaidDataDisks', 'ReleaseAddress'], run: (p, ctx) => {
        const xs = insts(ctx, p);
        for (const x of xs) if (x.DisableApiTermination) throw err('UnsupportedOperation', `The instance \`${x.InstanceId}\` has termination protection enabled (DisableApiTermination).`);
        for (const x of xs) terminate(x);
        return {};
      } },
      ResetInstancesType: { params: ['InstanceIds', 'InstanceType', 'ForceStop'], run: (p, ctx) => {
        const xs = insts(ctx, p);
        if (xs.length !== 1) throw badValue('InstanceIds', 'must hold exactly one instance');
        if (!p.InstanceType) throw missing('InstanceType');
        const x = xs[0];
        const t = typeIn(p.InstanceType, x.Placement.Zone);
        if (x.InstanceState !== 'STOPPED') throw notStopped(x);
        Object.assign(x, { InstanceType: t[0], CPU: t[2], Memory: t[3] });
        return {};
      } },
      RunInstances: {
        params: ['InstanceChargeType', 'InstanceChargePrepaid', 'Placement', 'InstanceType', 'ImageId', 'SystemDisk', 'DataDisks', 'VirtualPrivateCloud', 'InternetAccessible',
          'InstanceCount', 'MinCount', 'InstanceName', 'LoginSettings', 'SecurityGroupIds', 'EnhancedService', 'ClientToken', 'HostName', 'TagSpecification', 'UserData',
          'DryRun', 'DisableApiTermination', 'ProjectId', 'CamRoleName'],
        run: (p, ctx) => {
          const r = regionOf(ctx);
          const zone = p.Placement?.Zone;
          if (!zone) throw missing('Placement.Zone');
          if (!r.zones.includes(zone)) throw err('InvalidZone.MismatchRegion', `The zone \`${zone}\` does not belong to the region \`${r.id}\`.`);
          if (!p.ImageId) throw missing('ImageId');
          if (!IMAGES.some((i) => i[0] === p.ImageId)) throw err('InvalidImageId.NotFound', `The image \`${p.ImageId}\` does not exist.`);
          const t = typeIn(p.InstanceType ?? 'S5.MEDIUM4', zone);
          const vpcId = p.VirtualPrivateCloud?.VpcId;
          const subnetId = p.VirtualPrivateCloud?.SubnetId;
          const subnet = subnetId ? w.subnets.get(subnetId) : [...w.subnets.values()].find((s) => s.region === r.id && s.Zone === zone);
          if (!subnet || subnet.region !== r.id || (vpcId && subnet.VpcId !== vpcId)) throw err('InvalidParameterValue.SubnetNotExist', `The subnet \`${subnetId}\` does not exist in \`${vpcId}\`.`);
          if (subnet.Zone !== zone) throw err('InvalidParameterValue.ZoneNotMatchSubnet', `The subnet \`${subnet.SubnetId}\` is not in \`${zone}\`.`);
          const groups = strList(p, 'SecurityGroupIds') ?? [];
          for (const g of groups) if (!w.groups.has(g)) throw err('InvalidSecurityGroupId.NotFound', `The security group \`${g}\` does not exist.`);
          const keys = p.LoginSettings?.KeyIds ?? [];
          for (const k of keys) if (!w.keys.has(k)) throw err('InvalidKeyPair.NotFound', `The key pair \`${k}\` does not exist.`);
          const count = p.InstanceCount ?? 1;
          if (!Number.isInteger(count) || count < 1 || count > 100) throw badValue('InstanceCount', 'must be from 1 to 100');
          const inRegion = [...w.instances.values()].filter((x) => x.region === r.id).length;
          if (inRegion + count > o.instanceQuota) throw err('LimitExceeded.InstanceQuota', `Your current quota does not allow you to specified the value \`${count}\` in the parameter \`InstanceCount\`.`);
          if (p.DryRun === true) throw err('DryRunOperation', 'The request would have succeeded, but the DryRun parameter was used.');
          const tags = (p.TagSpecification ?? []).filter((s) => s.ResourceType === 'instance').flatMap((s) => s.Tags ?? []).map((tg) => ({ Key: tg.Key, Value: tg.Value }));
          const InstanceIdSet = [];
          for (let k = 0; k < count; k++) {
            const x = newInstance(w, o.seed, { region: r.id, zone, vpc: subnet.VpcId, subnet: subnet.SubnetId, type: t[0], image: p.ImageId, groups, name: p.InstanceName ?? '',
              state: 'PENDING', created: now(), keys, dataDisks: (p.DataDisks ?? []).map((d) => ({ DiskSize: d.DiskSize, DiskType: d.DiskType })), systemDisk: p.SystemDisk,
              tags, protect: p.DisableApiTermination === true, bandwidth: p.InternetAccessible?.InternetMaxBandwidthOut });
            transition(x, 'PENDING', 'RUNNING', 'RunInstances', ctx);
            InstanceIdSet.push(x.InstanceId);
          }
          return { InstanceIdSet };
        },
      },
      DescribeImages: { params: ['ImageIds', 'Filters', 'Offset', 'Limit', 'InstanceType'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'ImageIds');
        const all = filtered(IMAGES.filter((i) => !ids || ids.includes(i[0])), p, { 'image-id': (i, v) => i[0] === v, 'image-type': (_i, v) => v === 'PUBLIC_IMAGE', platform: (i, v) => i[2] === v });
        return { TotalCount: all.length, ImageSet: page(all, p, 100).map(([ImageId, ImageName, Platform, OsType]) => ({ ImageId, OsName: ImageName, ImageType: 'PUBLIC_IMAGE',
          CreatedTime: '2024-01-01T00:00:00Z', ImageName, ImageDescription: ImageName, ImageSize: Platform === 'Windows' ? 50 : 20, Architecture: 'x86_64', ImageState: 'NORMAL',
          Platform, ImageCreator: null, ImageSource: 'OFFICIAL', SyncPercent: null, IsSupportCloudinit: OsType !== 'WINDOWS', SnapshotSet: null, Tags: [], LicenseType: 'TencentCloud' })) };
      } },
      DescribeKeyPairs: { params: ['KeyIds', 'Filters', 'Offset', 'Limit'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'KeyIds');
        const all = filtered([...w.keys.values()].filter((k) => k.region === ctx.region && (!ids || ids.includes(k.KeyId))), p, { 'key-name': (k, v) => k.KeyName === v, 'project-id': () => true });
        return { TotalCount: all.length, KeyPairSet: page(all, p, 100).map((k) => ({ ...strip(k), AssociatedInstanceIds: [...k.AssociatedInstanceIds], PrivateKey: null, TagSet: [] })) };
      } },
      DescribeInstanceVncUrl: { params: ['InstanceId'], run: (p, ctx) => {
        if (!p.InstanceId) throw missing('InstanceId');
        const x = inst(ctx, p.InstanceId);
        if (x.InstanceState !== 'RUNNING') throw notRunning(x);
        // A one-time ws:// URL on this fake's port, relayed to a real VNC server (../vnc-relay.mjs).
        return { InstanceVncUrl: vnc.issue(`ws://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`, x.InstanceId) };
      } },
    },
    vpc: {
      DescribeVpcs: { params: ['VpcIds', 'Filters', 'Offset', 'Limit'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'VpcIds');
        const all = filtered([...w.vpcs.values()].filter((v) => v.region === ctx.region && (!ids || ids.includes(v.VpcId))), p, { 'vpc-id': (v, x) => v.VpcId === x, 'vpc-name': (v, x) => v.VpcName === x, 'is-default': (v, x) => String(v.IsDefault) === x });
        return { TotalCount: all.length, VpcSet: page(all, p, 100, 20, true).map(strip) };
      } },
      DescribeSubnets: { params: ['SubnetIds', 'Filters', 'Offset', 'Limit'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'SubnetIds');
        const all = filtered([...w.subnets.values()].filter((s) => s.region === ctx.region && (!ids || ids.includes(s.SubnetId))), p, { 'vpc-id': (s, v) => s.VpcId === v, zone: (s, v) => s.Zone === v, 'subnet-id': (s, v) => s.SubnetId === v });
        return { TotalCount: all.length, SubnetSet: page(all, p, 100, 20, true).map(strip) };
      } },
      DescribeSecurityGroups: { params: ['SecurityGroupIds', 'Filters', 'Offset', 'Limit', 'OrderField', 'OrderDirection'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'SecurityGroupIds');
        const all = filtered([...w.groups.values()].filter((g) => g.region === ctx.region && (!ids || ids.includes(g.SecurityGroupId))), p, { 'security-group-id': (g, v) => g.SecurityGroupId === v, 'security-group-name': (g, v) => g.SecurityGroupName === v });
        return { TotalCount: all.length, SecurityGroupSet: page(all, p, 100, 20, true).map(({ region: _r, version: _v, ingress: _i, egress: _e, ...g }) => g) };
      } },
      DescribeSecurityGroupPolicies: { params: ['SecurityGroupId', 'Filters'], run: (p, ctx) => {
        regionOf(ctx);
        const g = group(ctx, p.SecurityGroupId);
        const view = (r, i) => ({ PolicyIndex: i, ...r, SecurityGroupId: '', AddressTemplate: { AddressId: '', AddressGroupId: '' }, ServiceTemplate: { ServiceId: '', ServiceGroupId: '' }, Ipv6CidrBlock: '' });
        return { SecurityGroupPolicySet: { Version: String(g.version), Ingress: g.ingress.map(view), Egress: g.egress.map(view) } };
      } },
      CreateSecurityGroupPolicies: { params: ['SecurityGroupId', 'SecurityGroupPolicySet'], run: (p, ctx) => {
        regionOf(ctx);
        const g = group(ctx, p.SecurityGroupId);
        const v = p.SecurityGroupPolicySet?.Version;
        if (v !== undefined && String(v) !== String(g.version)) throw badValue('SecurityGroupPolicySet.Version', `must be the current version ${g.version}`);
        for (const { dir, rule } of rules(p, false)) (dir === 'Ingress' ? g.ingress : g.egress).push(rule);
        g.version++;
        return {};
      } },
      DeleteSecurityGroupPolicies: { params: ['SecurityGroupId', 'SecurityGroupPolicySet'], run: (p, ctx) => {
        regionOf(ctx);
        const g = group(ctx, p.SecurityGroupId);
        const list = rules(p, true);
        for (const dir of ['Ingress', 'Egress']) {
          const key = dir === 'Ingress' ? 'ingress' : 'egress';
          const mine = list.filter((r) => r.dir === dir);
          const idx = mine.filter((r) => r.index !== undefined).map((r) => Number(r.index));
          for (const i of idx) if (!(i >= 0 && i < g[key].length)) throw err('ResourceNotFound', `The policy index \`${i}\` does not exist.`);
          g[key] = g[key].filter((x, i) => !idx.includes(i) && !mine.some((r) => r.rule && r.rule.Protocol === x.Protocol && r.rule.Port === x.Port && r.rule.CidrBlock === x.CidrBlock && r.rule.Action === x.Action));
        }
        g.version++;
        return {};
      } },
      DescribeAddresses: { params: ['AddressIds', 'Filters', 'Offset', 'Limit'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'AddressIds');
        const all = filtered([...w.eips.values()].filter((e) => e.region === ctx.region && (!ids || ids.includes(e.AddressId))), p, {
          'address-id': (e, v) => e.AddressId === v, 'address-ip': (e, v) => e.AddressIp === v, 'address-status': (e, v) => e.AddressStatus === v, 'instance-id': (e, v) => e.InstanceId === v });
        return { TotalCount: all.length, AddressSet: page(all, p, 100).map(strip) };
      } },
      AssociateAddress: { params: ['AddressId', 'InstanceId', 'NetworkInterfaceId', 'PrivateIpAddress', 'EipDirectConnection'], run: (p, ctx) => {
        regionOf(ctx);
        const e = eipOf(ctx, p.AddressId);
        if (!p.InstanceId) throw missing('InstanceId');
        const x = inst(ctx, p.InstanceId);
        if (e.AddressStatus !== 'UNBIND') throw err('InvalidAddressIdStatus.NotPermit', `The address \`${e.AddressId}\` is not in a state that permits this operation.`);
        if (x.eip) throw err('InvalidInstanceId.AlreadyBindEip', `The instance \`${x.InstanceId}\` is already bound to an EIP.`);
        bind(e, x);
        return { TaskId: String(Math.floor(now() / 1000)) };
      } },
      DisassociateAddress: { params: ['AddressId', 'ReallocateNormalPublicIp'], run: (p, ctx) => {
        regionOf(ctx);
        const e = eipOf(ctx, p.AddressId);
        if (e.AddressStatus !== 'BIND') throw err('InvalidAddressIdStatus.NotPermit', `The address \`${e.AddressId}\` is not in a state that permits this operation.`);
        const x = w.instances.get(e.InstanceId);
        if (x) x.eip = null;
        Object.assign(e, { AddressStatus: 'UNBIND', InstanceId: null, PrivateAddressIp: null });
        return { TaskId: String(Math.floor(now() / 1000)) };
      } },
    },
    cbs: {
      DescribeDisks: { params: ['DiskIds', 'Filters', 'Offset', 'Limit', 'Order', 'OrderField', 'ReturnBindAutoSnapshotPolicy'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'DiskIds');
        const all = filtered([...w.disks.values()].filter((d) => d.region === ctx.region && (!ids || ids.includes(d.DiskId))), p, {
          'instance-id': (d, v) => d.InstanceId === v, zone: (d, v) => d.Placement.Zone === v, 'disk-usage': (d, v) => d.DiskUsage === v,
          'disk-state': (d, v) => d.DiskState === v, 'disk-id': (d, v) => d.DiskId === v, portable: (d, v) => String(d.Portable).toUpperCase() === v.toUpperCase() });
        return { TotalCount: all.length, DiskSet: page(all, p, 100).map((d) => ({ ...strip(d), Placement: { ...d.Placement } })) };
      } },
      AttachDisks: { params: ['DiskIds', 'InstanceId', 'DeleteWithInstance', 'AttachMode'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'DiskIds', 10);
        if (!ids?.length) throw missing('DiskIds');
        if (!p.InstanceId) throw missing('InstanceId');
        const x = inst(ctx, p.InstanceId);
        const ds = ids.map((id) => disk(ctx, id));
        for (const d of ds) {
          if (d.Attached) throw err('ResourceInUse.DiskAlreadyAttached', `The disk \`${d.DiskId}\` is already attached.`);
          if (d.Placement.Zone !== x.Placement.Zone) throw err('InvalidParameterValue.NotSupported', `The disk \`${d.DiskId}\` and the instance are in different zones.`);
        }
        for (const d of ds) {
          Object.assign(d, { DiskState: 'ATTACHED', Attached: true, InstanceId: x.InstanceId, DeleteWithInstance: p.DeleteWithInstance === true });
          x.dataDisks.push(d.DiskId);
        }
        return {};
      } },
      DetachDisks: { params: ['DiskIds', 'InstanceId'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'DiskIds', 10);
        if (!ids?.length) throw missing('DiskIds');
        const ds = ids.map((id) => disk(ctx, id));
        for (const d of ds) {
          if (!d.Attached || (p.InstanceId && d.InstanceId !== p.InstanceId)) throw err('UnsupportedOperation.StateError', `The disk \`${d.DiskId}\` is not attached${p.InstanceId ? ` to ${p.InstanceId}` : ''}.`);
          if (d.DiskUsage === 'SYSTEM_DISK') throw err('UnsupportedOperation.NotSupportSystemDisk', `The disk \`${d.DiskId}\` is a system disk.`);
        }
        for (const d of ds) {
          const x = w.instances.get(d.InstanceId);
          if (x) x.dataDisks = x.dataDisks.filter((id) => id !== d.DiskId);
          Object.assign(d, { DiskState: 'UNATTACHED', Attached: false, InstanceId: '' });
        }
        return {};
      } },
      CreateSnapshot: { params: ['DiskId', 'SnapshotName', 'Deadline', 'DiskBackupId', 'Tags'], run: (p, ctx) => {
        regionOf(ctx);
        if (!p.DiskId) throw missing('DiskId');
        const d = disk(ctx, p.DiskId);
        const SnapshotId = idOf(o.seed, 'snap', 'snap-new', w.seq++);
        w.snapshots.set(SnapshotId, { SnapshotId, SnapshotName: p.SnapshotName ?? '未命名', DiskId: d.DiskId, DiskSize: d.DiskSize, DiskUsage: d.DiskUsage, SnapshotState: 'NORMAL',
          Percent: 100, CreateTime: plain(now()), Placement: { Zone: d.Placement.Zone }, Encrypt: false, region: d.region });
        return { SnapshotId };
      } },
      DeleteSnapshots: { params: ['SnapshotIds', 'DeleteBindImages'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'SnapshotIds');
        if (!ids?.length) throw missing('SnapshotIds');
        for (const id of ids) if (w.snapshots.get(id)?.region !== ctx.region) throw err('InvalidSnapshotId.NotFound', `The snapshot \`${id}\` does not exist.`);
        for (const id of ids) w.snapshots.delete(id);
        return {};
      } },
      DescribeSnapshots: { params: ['SnapshotIds', 'Filters', 'Offset', 'Limit', 'Order', 'OrderField'], run: (p, ctx) => {
        regionOf(ctx);
        const ids = strList(p, 'SnapshotIds');
        const all = filtered([...w.snapshots.values()].filter((s) => s.region === ctx.region && (!ids || ids.includes(s.SnapshotId))), p, {
          'disk-id': (s, v) => s.DiskId === v, 'snapshot-id': (s, v) => s.SnapshotId === v, 'snapshot-state': (s, v) => s.SnapshotState === v, zone: (s, v) => s.Placement.Zone === v });
        return { TotalCount: all.length, SnapshotSet: page(all, p, 100).map(strip) };
      } },
    },
  };

  // Cloud Monitor (monitor 2018-07-24) and CVM InquiryPriceRunInstances (./monitor.mjs).
  api.monitor = monitorApi({ instances: w.instances, err, missing, bad, badValue, now });
  Object.assign(api.cvm, inquiryPriceApi({ region: regionOf, typeIn, images: IMAGES, err, missing, badValue }));

  function authenticate(method, url, headers, body, service) {
    const auth = headers.authorization;
    if (!auth) throw err('AuthFailure.InvalidAuthorization', 'The Authorization header is missing.');
    const a = parseTc3Authorization(auth);
    if (!a) throw err('AuthFailure.InvalidAuthorization', 'The Authorization header is malformed.');
    const secret = secrets.get(a.secretId);
    if (secret === undefined) throw err('AuthFailure.SecretIdNotFound', 'The SecretId is not found, please ensure that your SecretId is correct.');
    const ts = headers['x-tc-timestamp'];
    if (!ts || !/^\d+$/.test(ts)) throw missing('X-TC-Timestamp');
    if (Math.abs(Number(ts) * 1000 - now()) > o.clockSkewMs) throw err('AuthFailure.SignatureExpire', `Signature expired. Timestamp: ${ts}; server time: ${Math.floor(now() / 1000)}.`);
    if (a.date !== utcDate(ts)) throw err('AuthFailure.InvalidAuthorization', 'The date in Credential does not match X-TC-Timestamp.');
    if (a.service !== service) throw err('AuthFailure.InvalidAuthorization', `The service in Credential (${a.service}) does not match the endpoint (${service}).`);
    if (!a.signedHeaders.includes('content-type') || !a.signedHeaders.includes('host')) throw err('AuthFailure.InvalidAuthorization', 'SignedHeaders must include content-type and host.');
    const query = method === 'GET' ? url.search.slice(1) : '';
    const hostname = String(headers.host ?? '').replace(/:\d+$/, '');
    for (const host of new Set([hostname, headers.host ?? ''])) {
      const canonical = tc3CanonicalRequest({ method, query, headers: { ...headers, host }, signedHeaders: a.signedHeaders, payload: body });
      if (safeEqual(tc3Signature(secret, ts, a.service, tc3StringToSign(ts, a.service, canonical)), a.signature)) return a.secretId;
    }
    const canonical = tc3CanonicalRequest({ method, query, headers: { ...headers, host: hostname }, signedHeaders: a.signedHeaders, payload: body });
    throw err('AuthFailure.SignatureFailure', `The provided credentials could not be validated. Please check your signature is correct. String to sign: ${JSON.stringify(tc3StringToSign(ts, a.service, canonical))}`);
  }

  function takeFault(service, action) {
    const f = faults.find((x) => x.left > 0 && (!x.service || x.service === service) && (!x.action || (Array.isArray(x.action) ? x.action.includes(action) : x.action === action)));
    if (!f) return null;
    f.left--;
    faults = faults.filter((x) => x.left > 0);
    return f;
  }

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      /** @type {Record<string,string>} */
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
      const label = String(headers.host ?? '').split('.')[0]?.toLowerCase() ?? '';
      const credService = parseTc3Authorization(headers.authorization)?.service ?? '';
      const service = /^\d+$/.test(label) || label.startsWith('localhost') ? credService : label;
      const requestId = randomUUID();
      const rec = { time: now(), method: req.method ?? 'POST', host: headers.host ?? '', service, action: headers['x-tc-action'] ?? '', version: headers['x-tc-version'] ?? '',
        region: headers['x-tc-region'] ?? '', params: {}, secretId: null, status: 0, code: null };
      requests.push(rec);
      const send = (status, payload, type = 'application/json') => {
        rec.status = status;
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'x-tc-requestid': requestId });
        res.end(text);
      };
      const fail = (e) => {
        rec.code = e.code;
        send(200, { Response: { Error: { Code: e.code, Message: e.message }, RequestId: requestId } });
      };
      try {
        rec.secretId = authenticate(rec.method, url, headers, body, service);
        let params;
        if (rec.method === 'POST') {
          if (!(headers['content-type'] ?? '').startsWith('application/json')) throw err('UnsupportedProtocol', 'Only application/json bodies are supported by this endpoint.');
          try {
            params = body.length ? JSON.parse(body.toString()) : {};
          } catch {
            throw err('InvalidParameter', 'The request body is not valid JSON.');
          }
          if (!params || typeof params !== 'object' || Array.isArray(params)) throw err('InvalidParameter', 'The request body must be a JSON object.');
        } else if (rec.method === 'GET') {
          params = unflatten(Object.fromEntries(url.searchParams.entries()));
        } else throw err('UnsupportedProtocol', `HTTP method ${rec.method} is not supported.`);
        rec.params = params;
        if (!rec.action) throw missing('X-TC-Action');
        const product = api[service];
        if (!product) throw err('NoSuchProduct', `The product \`${service}\` does not exist.`);
        if (!rec.version) throw missing('X-TC-Version');
        if (rec.version !== (service === 'monitor' ? MONITOR_VERSION : VERSION)) throw err('NoSuchVersion', `The requested version \`${rec.version}\` of API \`${rec.action}\` does not exist.`);
        const op = product[rec.action];
        if (!op) throw err('InvalidAction', `The requested action \`${rec.action}\` does not exist.`);
        const f = takeFault(service, rec.action);
        if (f) {
          if (f.kind === 'reset') {
            rec.code = 'reset';
            req.socket.destroy();
            return;
          }
          const [status, code, message] = TENCENT_FAULTS[f.kind] ?? [200, 'InternalError', 'Injected fault.'];
          const st = f.status ?? status;
          if (st !== 200) {
            rec.code = `HTTP ${st}`;
            send(st, `<html><body><h1>${st} ${f.message ?? message}</h1></body></html>`, 'text/html');
            return;
          }
          fail(err(f.code ?? code, f.message ?? message));
          return;
        }
        for (const k of Object.keys(params)) if (!op.params.includes(k)) throw err('UnknownParameter', `The parameter \`${k}\` is not recognized.`);
        if (op.region !== false) regionOf({ region: rec.region });
        const ctx = { region: rec.region, requestId };
        send(200, { Response: { ...op.run(params, ctx), RequestId: requestId } });
      } catch (e) {
        if (e instanceof ApiError) fail(e);
        else fail(err('InternalError', `An internal error has occurred: ${e?.message ?? e}`));
      }
    });
  });
  server.on('upgrade', (req, socket, head) => vnc.handleUpgrade(req, socket, head) || socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const agent = new Agent({
    keepAlive: true,
    // Every *.tencentcloudapi.com name is this loopback fake.
    lookup: /** @type {any} */ ((hostname, options, cb) => {
      if (typeof options === 'function') [cb, options] = [options, {}];
      if (!/(^|\.)tencentcloudapi\.com$/.test(hostname) && hostname !== '127.0.0.1' && hostname !== 'localhost') {
        cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (the Tencent fake only serves *.tencentcloudapi.com)`), { code: 'ENOTFOUND' }));
        return;
      }
      if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
      else cb(null, '127.0.0.1', 4);
    }),
  });

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    endpoint: `127.0.0.1:${port}`,
    endpoints: { cvm: `cvm.tencentcloudapi.com:${port}`, vpc: `vpc.tencentcloudapi.com:${port}`, cbs: `cbs.tencentcloudapi.com:${port}`, monitor: `monitor.tencentcloudapi.com:${port}` },
    agent,
    secretId: o.secretId,
    secretKey: o.secretKey,
    regions: w.regions.map((r) => r.id),
    requests,
    inject(fault) {
      const f = { ...fault, left: fault.times ?? 1, id: ++faultSeq };
      faults.push(f);
      return f.id;
    },
    clearFaults() {
      faults = [];
    },
    state: {
      instances: () => [...w.instances.values()].map((x) => ({ ...instanceView(w, settle(x, now())), Region: x.region })),
      instance: (id) => { const x = w.instances.get(id); return x ? { ...instanceView(w, settle(x, now())), Region: x.region } : undefined; },
      disks: () => [...w.disks.values()].map((d) => ({ ...d, Region: d.region })),
      snapshots: () => [...w.snapshots.values()].map((s) => ({ ...s, Region: s.region })),
      addresses: () => [...w.eips.values()].map((e) => ({ ...e, Region: e.region })),
      securityGroupPolicies: (id) => { const g = w.groups.get(id); return g ? { Version: String(g.version), Ingress: g.ingress.map((r) => ({ ...r })), Egress: g.egress.map((r) => ({ ...r })) } : undefined; },
      vpcs: () => [...w.vpcs.values()].map((v) => ({ ...v, Region: v.region })),
      subnets: () => [...w.subnets.values()].map((s) => ({ ...s, Region: s.region })),
      securityGroups: () => [...w.groups.values()].map(({ ingress: _i, egress: _e, ...g }) => ({ ...g, Region: g.region })),
      keyPairs: () => [...w.keys.values()].map((k) => ({ ...k, Region: k.region })),
    },
    vnc,
    close: () => new Promise((resolve) => {
      vnc.close();
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve(undefined));
    }),
  };
}

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

/** GET form: InstanceIds.0=a&Filters.0.Name=zone&Filters.0.Values.0=z → { InstanceIds: ['a'], Filters: [{ Name, Values: [z] }] }. */
function unflatten(flat) {
  const root = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = !last && /^\d+$/.test(parts[i + 1] ?? '');
      if (last) node[part] = /^-?\d+$/.test(value) && ['Offset', 'Limit', 'InstanceCount', 'DiskSize', 'InternetMaxBandwidthOut'].includes(part) ? Number(value) : value;
      else node = node[part] ??= nextIsIndex ? [] : {};
    });
  }
  return root;
}
