// A loopback fake of Alibaba Cloud's ECS (2014-05-26) and VPC (2016-04-28) RPC APIs for tests and benchmarks.
//
//   const fake = await startAliyunFake({ instances: 10_000 });
//   new Ecs(new $OpenApi.Config({ accessKeyId: fake.accessKeyId, accessKeySecret: fake.accessKeySecret,
//     endpoint: fake.endpoint, protocol: 'HTTP', regionId: 'cn-hangzhou' }));          // the real SDK, endpoint override
//   fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 2 });
//   await fake.close();
//
// Every request's signature is verified with ./signature.mjs (written from Alibaba's documents, not from the SDK): V3
// ACS3-HMAC-SHA256 in the Authorization header (what @alicloud/ecs20140526 7.x sends) or the V2 RPC HMAC-SHA1 signature
// in the parameters. Then the product (the Host's first label ecs/vpc, else x-acs-version / Version), the action and its
// parameters are checked against what the API reference defines, and the answer is Alibaba's RPC JSON: the operation's
// fields plus RequestId, list results wrapped as {"Instances":{"Instance":[…]}} with TotalCount/PageNumber/PageSize (or
// NextToken with MaxResults), errors as {"RequestId","HostId","Code","Message","Recommend"} with the HTTP status the
// cloud uses. The state (regions, zones, VPCs, vSwitches, security groups and rules, instances, disks, snapshots, images,
// EIPs, key pairs) is generated deterministically from `seed` and changes with the operations; status transitions
// (Starting, Stopping, Pending) settle `transitionMs` after the operation, when the resource is next read.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { createVncRelay } from '../vnc-relay.mjs';
import {
  acs3CanonicalRequest, acs3Signature, acs3StringToSign, parseAcs3Authorization, rpcSignature, rpcStringToSign, sha256Hex,
} from './signature.mjs';
import { CMS_VERSION, cmsApi, describePriceApi } from './cms.mjs';

export const DEFAULT_ACCESS_KEY_ID = 'LTAI5tSkydeckFakeKey0001';
export const DEFAULT_ACCESS_KEY_SECRET = 'SkydeckFakeSecretDoNotUse000001';
const VERSIONS = { ecs: '2014-05-26', vpc: '2016-04-28', cms: CMS_VERSION };
const REGIONS = [
  ['cn-hangzhou', '华东1（杭州）'], ['cn-shanghai', '华东2（上海）'], ['cn-beijing', '华北2（北京）'],
  ['ap-southeast-1', '新加坡'], ['us-west-1', '美国（硅谷）'],
];
/** [type, family, vCPU, memory MiB, offered in the second zone of each region] */
const TYPES = [
  ['ecs.g7.large', 'ecs.g7', 2, 8192, true], ['ecs.g7.xlarge', 'ecs.g7', 4, 16384, true],
  ['ecs.c7.large', 'ecs.c7', 2, 4096, true], ['ecs.t6-c1m1.large', 'ecs.t6', 2, 2048, false],
];
const IMAGES = [
  ['ubuntu_22_04_x64_20G_alibase_20240130.vhd', 'Ubuntu  22.04 64位', 'linux', 'Ubuntu'],
  ['aliyun_3_x64_20G_alibase_20240528.vhd', 'Alibaba Cloud Linux  3.2104 LTS 64位', 'linux', 'Aliyun'],
  ['win2022_21H2_x64_dtc_zh-cn_40G_alibase_20240516.vhd', 'Windows Server  2022 数据中心版 64位中文版', 'windows', 'Windows Server 2022'],
];
/** Parameters every RPC call may carry (common parameters and the owner/identity ones the SDK models expose). */
const COMMON = ['Action', 'Version', 'Format', 'AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce',
  'Timestamp', 'SecurityToken', 'SignatureType', 'RegionId', 'OwnerId', 'OwnerAccount', 'ResourceOwnerId', 'ResourceOwnerAccount',
  'ResourceGroupId', 'DryRun', 'ClientToken'];
const PAGE = ['PageNumber', 'PageSize'];
const TOKEN = ['NextToken', 'MaxResults'];

/** Preset faults: [HTTP status, Code, Message], as Alibaba Cloud answers them. */
export const ALIYUN_FAULTS = {
  throttle: [400, 'Throttling.User', 'Request was denied due to user flow control.'],
  'throttle-api': [400, 'Throttling.Api', 'Request was denied due to api flow control.'],
  throttling: [400, 'Throttling', 'Request was denied due to request throttling.'],
  'throttling-503': [503, 'Throttling', 'Request was denied due to request throttling.'],
  unavailable: [503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.'],
  internal: [500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.'],
  quota: [403, 'QuotaExceed.ElasticQuota', 'No additional quota is available for the specified ECS instance type.'],
  'zone-type': [403, 'InvalidResourceType.NotSupported', 'This resource type is not supported; please try other resource types.'],
  'no-stock': [403, 'OperationDenied.NoStock', 'Sales of this resource are temporarily suspended in the specified region; please try again later.'],
  region: [404, 'InvalidRegionId.NotFound', 'The specified RegionId does not exist.'],
  forbidden: [403, 'Forbidden.RAM', "User not authorized to operate on the specified resource, or this API doesn't support RAM."],
};

class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const err = (status, code, message) => new ApiError(status, code, message);
const missing = (name) => err(400, 'MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
const invalid = (name, why = 'is not valid') => err(400, 'InvalidParameter', `The specified parameter "${name}" ${why}.`);

/** Deterministic ids: prefix + 20 hex characters of sha1(seed/kind/n). */
function idOf(seed, prefix, kind, n) {
  return `${prefix}-${createHash('sha1').update(`${seed}/${kind}/${n}`).digest('hex').slice(0, 20)}`;
}
/** A small deterministic PRNG (mulberry32). */
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
const isoMinute = (ms) => new Date(ms).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');
const isoSecond = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Builds the world: per region 2 zones, 1 VPC, a vSwitch per zone, 2 security groups, images, 2 key pairs, 20 EIPs. */
function buildWorld(o) {
  const rnd = prng(o.seed);
  const base = Date.UTC(2024, 0, 1);
  const regions = REGIONS.slice(0, o.regions);
  const w = {
    regions: regions.map(([id, local]) => ({ id, local, zones: [`${id}-a`, `${id}-b`] })),
    vpcs: new Map(), vswitches: new Map(), groups: new Map(), instances: new Map(), disks: new Map(), snapshots: new Map(),
    images: new Map(), keypairs: new Map(), eips: new Map(), seq: 0, ruleSeq: 0,
  };
  for (const [ri, r] of w.regions.entries()) {
    const vpc = { VpcId: idOf(o.seed, 'vpc', 'vpc', ri), VpcName: `skydeck-${r.id}`, CidrBlock: `172.${16 + ri}.0.0/16`, RegionId: r.id,
      Status: 'Available', IsDefault: true, CreationTime: isoSecond(base), vswitches: [] };
    w.vpcs.set(vpc.VpcId, vpc);
    r.zones.forEach((z, zi) => {
      const vs = { VSwitchId: idOf(o.seed, 'vsw', 'vsw', ri * 10 + zi), VpcId: vpc.VpcId, ZoneId: z, RegionId: r.id,
        CidrBlock: `172.${16 + ri}.${zi}.0/24`, VSwitchName: `${z}-sw`, Status: 'Available', AvailableIpAddressCount: 250, CreationTime: isoSecond(base) };
      w.vswitches.set(vs.VSwitchId, vs);
      vpc.vswitches.push(vs.VSwitchId);
    });
    for (let g = 0; g < 2; g++) {
      const sg = { SecurityGroupId: idOf(o.seed, 'sg', 'sg', ri * 10 + g), SecurityGroupName: g ? 'web' : 'default', RegionId: r.id,
        VpcId: vpc.VpcId, Description: g ? 'http and https' : 'ssh', CreationTime: isoSecond(base), rules: [] };
      const rule = (proto, ports) => ({ SecurityGroupRuleId: `sgr-${String(++w.ruleSeq).padStart(12, '0')}`, IpProtocol: proto,
        PortRange: ports, SourceCidrIp: '0.0.0.0/0', Policy: 'Accept', Priority: '1', Direction: 'ingress', Description: '', CreateTime: isoSecond(base) });
      sg.rules.push(...(g ? [rule('TCP', '80/80'), rule('TCP', '443/443')] : [rule('TCP', '22/22')]));
      w.groups.set(sg.SecurityGroupId, sg);
    }
    for (const [ii, [ImageId, OSName, OSType, Platform]] of IMAGES.entries()) {
      w.images.set(`${r.id}/${ImageId}`, { ImageId, ImageName: ImageId, OSName, OSType, Platform, Architecture: 'x86_64', Size: OSType === 'windows' ? 40 : 20,
        Status: 'Available', ImageOwnerAlias: 'system', RegionId: r.id, CreationTime: isoSecond(base + ii) });
    }
    for (let k = 0; k < 2; k++) {
      const name = `skydeck-key-${k}`;
      w.keypairs.set(`${r.id}/${name}`, { KeyPairName: name, RegionId: r.id, CreationTime: isoSecond(base),
        KeyPairFingerPrint: createHash('md5').update(`${o.seed}/${r.id}/${k}`).digest('hex').replace(/(..)(?!$)/g, '$1:') });
    }
    for (let e = 0; e < 20; e++) {
      const eip = { AllocationId: idOf(o.seed, 'eip', 'eip', ri * 100 + e), IpAddress: `47.${96 + ri}.${Math.floor(e / 250)}.${(e % 250) + 1}`,
        RegionId: r.id, Status: 'Available', InstanceId: '', InstanceType: '', Bandwidth: '5', ChargeType: 'PostPaid',
        InternetChargeType: 'PayByTraffic', AllocationTime: isoSecond(base) };
      w.eips.set(eip.AllocationId, eip);
    }
  }
  for (let i = 0; i < o.instances; i++) {
    const r = w.regions[i % w.regions.length];
    if (!r) break;
    const zi = Math.floor(i / w.regions.length) % 2;
    const vpc = [...w.vpcs.values()].find((v) => v.RegionId === r.id);
    const type = TYPES[Math.floor(rnd() * (zi ? 3 : 4))] ?? TYPES[0];
    const image = IMAGES[i % IMAGES.length] ?? IMAGES[0];
    const created = base + i * 60_000;
    const inst = newInstance(w, o.seed, {
      region: r.id, zone: r.zones[zi], vpc: vpc.VpcId, vswitch: vpc.vswitches[zi], type: type[0], image: image[0],
      groups: [idOf(o.seed, 'sg', 'sg', w.regions.indexOf(r) * 10 + (i % 2))], name: `vm-${String(i).padStart(5, '0')}`,
      status: rnd() < 0.8 ? 'Running' : 'Stopped', created, keyPair: i % 3 ? 'skydeck-key-0' : '', dataDisk: Math.floor(i / w.regions.length) % 5 === 0 ? 100 : 0,
      tags: [{ TagKey: 'project', TagValue: `proj-${i % 7}` }, { TagKey: 'env', TagValue: i % 2 ? 'prod' : 'dev' }],
      protect: i % 97 === 0,
    });
    if (Math.floor(i / w.regions.length) % 10 === 0) {
      const sid = idOf(o.seed, 's', 'snap', i);
      w.snapshots.set(sid, { SnapshotId: sid, SnapshotName: `${inst.InstanceName}-daily`, RegionId: r.id, SourceDiskId: inst.disks[0],
        SourceDiskSize: '40', SourceDiskType: 'system', Status: 'accomplished', Progress: '100%', CreationTime: isoSecond(created + 3_600_000) });
    }
  }
  // A few EIPs bound to the first instances of each region.
  for (const r of w.regions) {
    const eips = [...w.eips.values()].filter((e) => e.RegionId === r.id).slice(0, 5);
    const insts = [...w.instances.values()].filter((x) => x.RegionId === r.id).slice(0, 5);
    eips.forEach((e, k) => bindEip(e, insts[k]));
  }
  return w;
}

function newInstance(w, seed, s) {
  const n = w.seq++;
  const t = TYPES.find((x) => x[0] === s.type) ?? TYPES[0];
  const InstanceId = idOf(seed, 'i', 'inst', n);
  const inst = {
    InstanceId, InstanceName: s.name, HostName: s.name, RegionId: s.region, ZoneId: s.zone, InstanceType: t[0], InstanceTypeFamily: t[1],
    Cpu: t[2], Memory: t[3], ImageId: s.image, Status: s.status, CreationTime: isoMinute(s.created), StartTime: isoMinute(s.created),
    InstanceChargeType: 'PostPaid', InternetChargeType: 'PayByTraffic', InternetMaxBandwidthOut: 0, KeyPairName: s.keyPair,
    DeletionProtection: !!s.protect, Description: '', vpc: s.vpc, vswitch: s.vswitch, groups: s.groups,
    ip: `172.${16 + w.regions.findIndex((r) => r.id === s.region)}.${s.zone.endsWith('-b') ? 1 : 0}.${(n % 250) + 3}`,
    tags: s.tags ?? [], disks: [], eip: null, pending: null,
  };
  w.instances.set(InstanceId, inst);
  const disk = (type, size, category, k) => {
    const d = { DiskId: idOf(seed, 'd', 'disk', `${n}/${k}`), DiskName: '', RegionId: s.region, ZoneId: s.zone, Size: size, Category: category,
      Type: type, Status: 'In_use', InstanceId, Device: type === 'system' ? '/dev/xvda' : `/dev/xvd${String.fromCharCode(98 + k - 1)}`,
      DeleteWithInstance: true, Portable: type === 'data', CreationTime: isoSecond(s.created), Encrypted: false };
    w.disks.set(d.DiskId, d);
    inst.disks.push(d.DiskId);
  };
  disk('system', s.systemDiskSize ?? 40, s.systemDiskCategory ?? 'cloud_essd', 0);
  (s.dataDisks ?? (s.dataDisk ? [{ size: s.dataDisk, category: 'cloud_essd' }] : [])).forEach((d, k) => disk('data', d.size, d.category, k + 1));
  return inst;
}

function bindEip(eip, inst) {
  if (!eip || !inst) return;
  eip.Status = 'InUse';
  eip.InstanceId = inst.InstanceId;
  eip.InstanceType = 'EcsInstance';
  inst.eip = eip.AllocationId;
}

/** Settles a pending status transition whose time has come. */
function settle(x, now) {
  if (x.pending && x.pending.at <= now) {
    x.Status = x.pending.status;
    x.pending = null;
  }
  return x;
}

function instanceView(w, x) {
  const eip = x.eip ? w.eips.get(x.eip) : null;
  return {
    InstanceId: x.InstanceId, InstanceName: x.InstanceName, HostName: x.HostName, Description: x.Description, RegionId: x.RegionId,
    ZoneId: x.ZoneId, InstanceType: x.InstanceType, InstanceTypeFamily: x.InstanceTypeFamily, Cpu: x.Cpu, Memory: x.Memory,
    ImageId: x.ImageId, OSName: IMAGES.find((i) => i[0] === x.ImageId)?.[1] ?? '', OSType: IMAGES.find((i) => i[0] === x.ImageId)?.[2] ?? 'linux',
    Status: x.Status, CreationTime: x.CreationTime, StartTime: x.StartTime, ExpiredTime: '2099-12-31T15:59Z',
    InstanceChargeType: x.InstanceChargeType, InternetChargeType: x.InternetChargeType, InternetMaxBandwidthOut: x.InternetMaxBandwidthOut,
    InstanceNetworkType: 'vpc', KeyPairName: x.KeyPairName, DeletionProtection: x.DeletionProtection, StoppedMode: x.Status === 'Stopped' ? 'KeepCharging' : 'Not-applicable',
    VpcAttributes: { VpcId: x.vpc, VSwitchId: x.vswitch, NatIpAddress: '', PrivateIpAddress: { IpAddress: [x.ip] } },
    PublicIpAddress: { IpAddress: [] }, InnerIpAddress: { IpAddress: [] },
    EipAddress: eip ? { AllocationId: eip.AllocationId, IpAddress: eip.IpAddress, Bandwidth: Number(eip.Bandwidth), InternetChargeType: eip.InternetChargeType } : { AllocationId: '', IpAddress: '', Bandwidth: 0, InternetChargeType: '' },
    SecurityGroupIds: { SecurityGroupId: [...x.groups] },
    Tags: { Tag: x.tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })) },
    OperationLocks: { LockReason: [] },
  };
}
const diskView = (d) => ({ ...d });
const eipView = (e) => ({ ...e });

/** Parameters named NAME.1, NAME.2 … (or NAME.1.Field) in order. */
function repeated(p, name) {
  const out = [];
  for (let i = 1; ; i++) {
    const plain = p[`${name}.${i}`];
    const prefix = `${name}.${i}.`;
    const fields = Object.keys(p).filter((k) => k.startsWith(prefix));
    if (plain === undefined && !fields.length) break;
    if (plain !== undefined) out.push(plain);
    else out.push(Object.fromEntries(fields.map((k) => [k.slice(prefix.length), p[k]])));
  }
  return out;
}
/** A JSON-array parameter such as InstanceIds='["i-1","i-2"]'. */
function jsonList(p, name) {
  if (p[name] === undefined || p[name] === '') return null;
  try {
    const v = JSON.parse(p[name]);
    if (!Array.isArray(v)) throw new Error('not an array');
    return v.map(String);
  } catch {
    throw invalid(name, 'is not a valid JSON array');
  }
}
function intParam(p, name, def, min, max) {
  if (p[name] === undefined || p[name] === '') return def;
  const n = Number(p[name]);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(name, `must be an integer from ${min} to ${max}`);
  return n;
}
const bool = (v) => v === true || v === 'true';

/**
 * Pagination as the Describe* operations do it: PageNumber/PageSize, or NextToken/MaxResults when either is given.
 * @param {any[]} all @param {Record<string,string>} p @param {{ max: number, def?: number, tokenMax?: number, token?: boolean }} lim
 */
function paginate(all, p, lim) {
  if (lim.token !== false && (p.NextToken !== undefined || p.MaxResults !== undefined)) {
    const size = intParam(p, 'MaxResults', lim.def ?? 10, 1, lim.tokenMax ?? lim.max);
    let start = 0;
    if (p.NextToken) {
      const m = /^skd:(\d+)$/.exec(Buffer.from(p.NextToken, 'base64url').toString());
      if (!m) throw err(400, 'InvalidParameter.NextToken', 'The specified parameter NextToken is not valid.');
      start = Number(m[1]);
    }
    const items = all.slice(start, start + size);
    const next = start + size < all.length ? Buffer.from(`skd:${start + size}`).toString('base64url') : '';
    return { items, page: { TotalCount: all.length, NextToken: next, MaxResults: size } };
  }
  const size = intParam(p, 'PageSize', lim.def ?? 10, 1, lim.max);
  const number = intParam(p, 'PageNumber', 1, 1, 1e9);
  return { items: all.slice((number - 1) * size, number * size), page: { TotalCount: all.length, PageNumber: number, PageSize: size } };
}

/**
 * @param {import('./fake.d.mts').AliyunFakeOptions} [opts]
 * @returns {Promise<import('./fake.d.mts').AliyunFake>}
 */
export async function startAliyunFake(opts = {}) {
  const o = {
    seed: opts.seed ?? 1, instances: opts.instances ?? 10_000, regions: Math.min(opts.regions ?? 5, REGIONS.length),
    accessKeyId: opts.accessKeyId ?? DEFAULT_ACCESS_KEY_ID, accessKeySecret: opts.accessKeySecret ?? DEFAULT_ACCESS_KEY_SECRET,
    transitionMs: opts.transitionMs ?? 0, clockSkewMs: opts.clockSkewMs ?? 15 * 60_000, instanceQuota: opts.instanceQuota ?? Infinity,
    strictParams: opts.strictParams ?? true,
  };
  const secrets = new Map([[o.accessKeyId, o.accessKeySecret], ...Object.entries(opts.accounts ?? {})]);
  const w = buildWorld(o);
  const vnc = createVncRelay({ path: '/websocket/', ttlMs: opts.vncUrlTtlMs, target: opts.vnc ?? null });
  /** @type {import('./fake.d.mts').AliyunRecordedRequest[]} */
  const requests = [];
  /** @type {Array<import('./fake.d.mts').AliyunFault & { left: number, id: number }>} */
  let faults = [];
  let faultSeq = 0;
  const nonces = new Set();
  const now = () => Date.now();

  const region = (p) => {
    if (!p.RegionId) throw missing('RegionId');
    const r = w.regions.find((x) => x.id === p.RegionId);
    if (!r) throw err(404, 'InvalidRegionId.NotFound', 'The specified RegionId does not exist.');
    return r;
  };
  const instanceIn = (p, key = 'InstanceId') => {
    const id = p[key];
    if (!id) throw missing(key);
    const x = w.instances.get(id);
    if (!x || (p.RegionId && x.RegionId !== p.RegionId)) throw err(404, 'InvalidInstanceId.NotFound', 'The specified InstanceId does not exist.');
    return settle(x, now());
  };
  const badStatus = () => err(403, 'IncorrectInstanceStatus', 'The current status of the resource does not support this operation.');
  const transition = (x, via, to) => {
    x.Status = via;
    x.pending = { status: to, at: now() + o.transitionMs };
    settle(x, now());
  };
  const typeIn = (name, zone) => {
    const t = TYPES.find((x) => x[0] === name);
    if (!t) throw err(400, 'InvalidInstanceType.ValueNotSupported', 'The specified InstanceType does not exist or beyond the permitted range.');
    if (!t[4] && zone.endsWith('-b')) throw err(403, 'InvalidResourceType.NotSupported', 'This resource type is not supported; please try other resource types.');
    return t;
  };
  const groupIn = (p) => {
    if (!p.SecurityGroupId) throw missing('SecurityGroupId');
    const g = w.groups.get(p.SecurityGroupId);
    if (!g || g.RegionId !== p.RegionId) throw err(404, 'InvalidSecurityGroupId.NotFound', 'The specified SecurityGroupId does not exist.');
    return g;
  };
  const diskIn = (p) => {
    if (!p.DiskId) throw missing('DiskId');
    const d = w.disks.get(p.DiskId);
    if (!d || (p.RegionId && d.RegionId !== p.RegionId)) throw err(404, 'InvalidDiskId.NotFound', 'The specified disk does not exist.');
    return d;
  };
  const deleteInstance = (x) => {
    for (const id of x.disks) {
      const d = w.disks.get(id);
      if (!d) continue;
      if (d.DeleteWithInstance) w.disks.delete(id);
      else Object.assign(d, { Status: 'Available', InstanceId: '', Device: '' });
    }
    if (x.eip) {
      const e = w.eips.get(x.eip);
      if (e) Object.assign(e, { Status: 'Available', InstanceId: '', InstanceType: '' });
    }
    w.instances.delete(x.InstanceId);
  };
  const parseRule = (r, p) => {
    const IpProtocol = String(r.IpProtocol ?? '').toUpperCase();
    if (!IpProtocol) throw missing('IpProtocol');
    if (!['TCP', 'UDP', 'ICMP', 'GRE', 'ALL', 'ICMPV6'].includes(IpProtocol)) throw err(400, 'InvalidIpProtocol.Malformed', 'The specified parameter "IpProtocol" is not valid.');
    const PortRange = r.PortRange ?? (IpProtocol === 'TCP' || IpProtocol === 'UDP' ? '' : '-1/-1');
    if (!PortRange) throw missing('PortRange');
    if (!/^-?\d+\/-?\d+$/.test(PortRange)) throw err(400, 'InvalidPortRange.Malformed', 'The specified parameter "PortRange" is not valid.');
    return { IpProtocol, PortRange, SourceCidrIp: r.SourceCidrIp ?? '0.0.0.0/0', Policy: r.Policy ?? 'Accept', Priority: String(r.Priority ?? '1'),
      Direction: 'ingress', Description: r.Description ?? p.Description ?? '' };
  };
  const rulesOf = (p) => {
    const list = repeated(p, 'Permissions');
    if (list.length) return list;
    return p.IpProtocol !== undefined || p.PortRange !== undefined ? [p] : [];
  };
  const batch = (p, op) => {
    const ids = repeated(p, 'InstanceId');
    if (!ids.length) throw missing('InstanceId.1');
    if (ids.length > 100) throw invalid('InstanceId', 'has more than 100 items');
    const xs = ids.map((id) => instanceIn({ InstanceId: id, RegionId: p.RegionId }));
    return { InstanceResponses: { InstanceResponse: xs.map((x) => {
      const PreviousStatus = x.Status;
      op(x);
      return { InstanceId: x.InstanceId, Code: '200', Message: 'success', PreviousStatus, CurrentStatus: x.Status };
    }) } };
  };
  const start = (x) => { if (x.Status !== 'Stopped') throw badStatus(); transition(x, 'Starting', 'Running'); x.StartTime = isoMinute(now()); };
  const stop = (x) => { if (x.Status !== 'Running') throw badStatus(); transition(x, 'Stopping', 'Stopped'); };
  const reboot = (x) => { if (x.Status !== 'Running') throw badStatus(); transition(x, 'Starting', 'Running'); };
  const del = (x, force) => {
    if (x.DeletionProtection) throw err(403, 'InvalidOperation.DeletionProtection', 'The specified instance is protected by deletion protection and cannot be deleted.');
    if (x.Status !== 'Stopped' && !force) throw badStatus();
    deleteInstance(x);
  };
  const regionList = () => ({ Regions: { Region: w.regions.map((r) => ({ RegionId: r.id, LocalName: r.local, RegionEndpoint: `ecs.${r.id}.aliyuncs.com`, Status: 'available' })) } });
  const listAll = (map, p, pred) => [...map.values()].filter((x) => x.RegionId === p.RegionId && pred(x));

  /** @type {Record<string, Record<string, { params: string[], run: (p: Record<string,string>) => object }>>} */
  const api = {
    ecs: {
      DescribeRegions: { params: ['AcceptLanguage', 'InstanceChargeType', 'ResourceType'], run: () => regionList() },
      DescribeZones: { params: ['AcceptLanguage', 'InstanceChargeType', 'SpotStrategy', 'Verbose'], run: (p) => ({ Zones: { Zone: region(p).zones.map((z) => ({
        ZoneId: z, LocalName: z, AvailableResourceCreation: { ResourceTypes: ['Instance', 'Disk', 'VSwitch'] },
        AvailableInstanceTypes: { InstanceTypes: TYPES.filter((t) => t[4] || !z.endsWith('-b')).map((t) => t[0]) },
        AvailableDiskCategories: { DiskCategories: ['cloud_essd', 'cloud_auto'] } })) } }) },
      DescribeInstanceTypes: { params: ['InstanceTypes', 'InstanceTypeFamily', ...TOKEN], run: (p) => ({ InstanceTypes: { InstanceType: TYPES
        .filter((t) => !p.InstanceTypeFamily || t[1] === p.InstanceTypeFamily).map((t) => ({ InstanceTypeId: t[0], InstanceTypeFamily: t[1], CpuCoreCount: t[2], MemorySize: t[3] / 1024 })) } }) },
      DescribeInstances: {
        // Filters the fake applies; the other parameters DescribeInstances defines are accepted and do not filter.
        params: ['InstanceIds', 'ZoneId', 'Status', 'VpcId', 'VSwitchId', 'InstanceName', 'InstanceType', 'ImageId', 'KeyPairName', 'SecurityGroupId', 'Tag', ...PAGE, ...TOKEN,
          'PrivateIpAddresses', 'PublicIpAddresses', 'InnerIpAddresses', 'EipAddresses', 'RdmaIpAddresses', 'Ipv6Address', 'InstanceNetworkType', 'InstanceChargeType',
          'InternetChargeType', 'InstanceTypeFamily', 'HpcClusterId', 'LockReason', 'IoOptimized', 'DeviceAvailable', 'NeedSaleCycle', 'AdditionalAttributes',
          'HttpEndpoint', 'HttpTokens', 'HttpPutResponseHopLimit', 'Filter'],
        run: (p) => {
          region(p);
          const ids = jsonList(p, 'InstanceIds');
          if (ids && ids.length > 100) throw invalid('InstanceIds', 'has more than 100 items');
          const tags = repeated(p, 'Tag');
          const t = now();
          const all = [...w.instances.values()].filter((x) => x.RegionId === p.RegionId && (!ids || ids.includes(x.InstanceId))
            && (!p.ZoneId || x.ZoneId === p.ZoneId) && (!p.VpcId || x.vpc === p.VpcId) && (!p.VSwitchId || x.vswitch === p.VSwitchId)
            && (!p.InstanceType || x.InstanceType === p.InstanceType) && (!p.SecurityGroupId || x.groups.includes(p.SecurityGroupId))
            && (!p.InstanceName || (p.InstanceName.endsWith('*') ? x.InstanceName.startsWith(p.InstanceName.slice(0, -1)) : x.InstanceName === p.InstanceName))
            && tags.every((tg) => x.tags.some((xt) => xt.TagKey === tg.Key && (tg.Value === undefined || xt.TagValue === tg.Value)))
            && (!p.Status || settle(x, t).Status === p.Status));
          const { items, page } = paginate(all, p, { max: 100, tokenMax: 100 });
          return { ...page, Instances: { Instance: items.map((x) => instanceView(w, settle(x, t))) } };
        },
      },
      StartInstance: { params: ['InstanceId', 'InitLocalDisk'], run: (p) => (start(instanceIn(p)), {}) },
      StopInstance: { params: ['InstanceId', 'ForceStop', 'StoppedMode', 'ConfirmStop', 'Hibernate'], run: (p) => (stop(instanceIn(p)), {}) },
      RebootInstance: { params: ['InstanceId', 'ForceStop'], run: (p) => (reboot(instanceIn(p)), {}) },
      DeleteInstance: { params: ['InstanceId', 'Force', 'TerminateSubscription'], run: (p) => (del(instanceIn(p), bool(p.Force)), {}) },
      StartInstances: { params: ['InstanceId', 'BatchOptimization'], run: (p) => batch(p, start) },
      StopInstances: { params: ['InstanceId', 'BatchOptimization', 'ForceStop', 'StoppedMode'], run: (p) => batch(p, stop) },
      RebootInstances: { params: ['InstanceId', 'BatchOptimization', 'ForceReboot'], run: (p) => batch(p, reboot) },
      DeleteInstances: { params: ['InstanceId', 'Force', 'TerminateSubscription'], run: (p) => (batch(p, (x) => del(x, bool(p.Force))), {}) },
      ModifyInstanceSpec: {
        params: ['InstanceId', 'InstanceType', 'AllowMigrateAcrossZone', 'Async', 'InternetMaxBandwidthOut', 'InternetMaxBandwidthIn', 'SystemDisk', 'TemporaryStartTime', 'TemporaryEndTime', 'TemporaryInternetMaxBandwidthOut', 'ModifyMode'],
        run: (p) => {
          const x = instanceIn(p);
          if (!p.InstanceType) throw missing('InstanceType');
          const t = typeIn(p.InstanceType, x.ZoneId);
          if (x.Status !== 'Stopped') throw badStatus();
          Object.assign(x, { InstanceType: t[0], InstanceTypeFamily: t[1], Cpu: t[2], Memory: t[3] });
          return {};
        },
      },
      RunInstances: {
        params: ['ImageId', 'InstanceType', 'SecurityGroupId', 'SecurityGroupIds', 'VSwitchId', 'ZoneId', 'InstanceName', 'HostName', 'Description', 'Password', 'KeyPairName',
          'Amount', 'MinAmount', 'SystemDisk', 'DataDisk', 'Tag', 'InstanceChargeType', 'InternetChargeType', 'InternetMaxBandwidthOut', 'DeletionProtection', 'UserData', 'UniqueSuffix'],
        run: (p) => {
          const r = region(p);
          for (const k of ['ImageId', 'InstanceType']) if (!p[k]) throw missing(k);
          if (!p.VSwitchId) throw missing('VSwitchId');
          const vs = w.vswitches.get(p.VSwitchId);
          if (!vs || vs.RegionId !== r.id) throw err(404, 'InvalidVSwitchId.NotFound', 'Specified virtual switch does not exist.');
          if (p.ZoneId && p.ZoneId !== vs.ZoneId) throw err(400, 'InvalidParameter.Mismatch', 'Specified virtual switch is not in the specified zone.');
          if (!w.images.has(`${r.id}/${p.ImageId}`)) throw err(404, 'InvalidImageId.NotFound', 'The specified ImageId does not exist.');
          const t = typeIn(p.InstanceType, vs.ZoneId);
          const groups = p.SecurityGroupId ? [p.SecurityGroupId] : repeated(p, 'SecurityGroupIds');
          if (!groups.length) throw missing('SecurityGroupId');
          for (const g of groups) if (!w.groups.has(g)) throw err(404, 'InvalidSecurityGroupId.NotFound', 'The specified SecurityGroupId does not exist.');
          if (p.KeyPairName && !w.keypairs.has(`${r.id}/${p.KeyPairName}`)) throw err(404, 'InvalidKeyPairName.NotFound', 'The specified KeyPairName does not exist.');
          const amount = intParam(p, 'Amount', 1, 1, 100);
          const inRegion = [...w.instances.values()].filter((x) => x.RegionId === r.id).length;
          if (inRegion + amount > o.instanceQuota) throw err(403, 'QuotaExceed.ElasticQuota', 'No additional quota is available for the specified ECS instance type.');
          if (bool(p.DryRun)) throw err(400, 'DryRunOperation', 'Request validation has been passed with DryRun flag set.');
          const dataDisks = repeated(p, 'DataDisk').map((d) => ({ size: Number(d.Size ?? 20), category: d.Category ?? 'cloud_essd' }));
          const tags = repeated(p, 'Tag').map((tg) => ({ TagKey: tg.Key, TagValue: tg.Value ?? '' }));
          const ids = [];
          for (let k = 0; k < amount; k++) {
            const name = p.InstanceName ? (amount > 1 && bool(p.UniqueSuffix) ? `${p.InstanceName}${String(k + 1).padStart(3, '0')}` : p.InstanceName) : '';
            const x = newInstance(w, o.seed, { region: r.id, zone: vs.ZoneId, vpc: vs.VpcId, vswitch: vs.VSwitchId, type: t[0], image: p.ImageId,
              groups, name, status: 'Pending', created: now(), keyPair: p.KeyPairName ?? '', dataDisks, tags, protect: bool(p.DeletionProtection),
              systemDiskSize: Number(p['SystemDisk.Size'] ?? 40), systemDiskCategory: p['SystemDisk.Category'] ?? 'cloud_essd' });
            if (!x.InstanceName) x.InstanceName = x.HostName = x.InstanceId;
            x.InternetMaxBandwidthOut = Number(p.InternetMaxBandwidthOut ?? 0);
            transition(x, 'Pending', 'Running');
            ids.push(x.InstanceId);
          }
          return { InstanceIdSets: { InstanceIdSet: ids }, TradePrice: 0 };
        },
      },
      DescribeDisks: {
        params: ['ZoneId', 'DiskIds', 'InstanceId', 'DiskType', 'Category', 'Status', 'SnapshotId', 'DiskName', 'Portable', 'Tag', ...PAGE, ...TOKEN],
        run: (p) => {
          region(p);
          const ids = jsonList(p, 'DiskIds');
          const all = listAll(w.disks, p, (d) => (!ids || ids.includes(d.DiskId)) && (!p.InstanceId || d.InstanceId === p.InstanceId)
            && (!p.ZoneId || d.ZoneId === p.ZoneId) && (!p.DiskType || p.DiskType === 'all' || d.Type === p.DiskType)
            && (!p.Category || p.Category === 'all' || d.Category === p.Category) && (!p.Status || p.Status === 'All' || d.Status === p.Status));
          const { items, page } = paginate(all, p, { max: 100, tokenMax: 500 });
          return { ...page, Disks: { Disk: items.map(diskView) } };
        },
      },
      AttachDisk: {
        params: ['InstanceId', 'DiskId', 'DeleteWithInstance', 'Bootable', 'Password', 'KeyPairName', 'Force'],
        run: (p) => {
          const x = instanceIn(p);
          const d = diskIn(p);
          if (d.Status !== 'Available') throw err(403, 'IncorrectDiskStatus', 'The current disk status does not support this operation.');
          if (d.ZoneId !== x.ZoneId) throw err(403, 'InvalidDiskId.ZoneMismatch', 'The specified disk and instance are not in the same zone.');
          if (!['Running', 'Stopped'].includes(x.Status)) throw badStatus();
          const used = new Set(x.disks.map((id) => w.disks.get(id)?.Device));
          let c = 98;
          while (used.has(`/dev/xvd${String.fromCharCode(c)}`)) c++;
          Object.assign(d, { Status: 'In_use', InstanceId: x.InstanceId, Device: `/dev/xvd${String.fromCharCode(c)}`, DeleteWithInstance: bool(p.DeleteWithInstance) });
          x.disks.push(d.DiskId);
          return {};
        },
      },
      DetachDisk: {
        params: ['InstanceId', 'DiskId', 'DeleteWithInstance'],
        run: (p) => {
          const x = instanceIn(p);
          const d = diskIn(p);
          if (d.InstanceId !== x.InstanceId) throw err(403, 'IncorrectDiskStatus', 'The current disk status does not support this operation.');
          if (d.Type === 'system') throw err(403, 'DiskCategory.OperationNotSupported', 'The system disk cannot be detached.');
          Object.assign(d, { Status: 'Available', InstanceId: '', Device: '' });
          x.disks = x.disks.filter((id) => id !== d.DiskId);
          return {};
        },
      },
      CreateSnapshot: {
        params: ['DiskId', 'SnapshotName', 'Description', 'RetentionDays', 'Category', 'InstantAccess', 'Tag'],
        run: (p) => {
          const d = diskIn(p);
          const SnapshotId = idOf(o.seed, 's', 'snap-new', w.seq++);
          w.snapshots.set(SnapshotId, { SnapshotId, SnapshotName: p.SnapshotName ?? '', RegionId: d.RegionId, SourceDiskId: d.DiskId,
            SourceDiskSize: String(d.Size), SourceDiskType: d.Type, Status: 'accomplished', Progress: '100%', CreationTime: isoSecond(now()) });
          return { SnapshotId };
        },
      },
      DeleteSnapshot: {
        params: ['SnapshotId', 'Force'],
        run: (p) => {
          if (!p.SnapshotId) throw missing('SnapshotId');
          if (!w.snapshots.delete(p.SnapshotId)) throw err(404, 'InvalidSnapshotId.NotFound', 'The specified snapshot does not exist.');
          return {};
        },
      },
      DescribeSnapshots: {
        params: ['SnapshotIds', 'DiskId', 'InstanceId', 'SnapshotName', 'Status', 'SnapshotType', 'Tag', ...PAGE, ...TOKEN],
        run: (p) => {
          region(p);
          const ids = jsonList(p, 'SnapshotIds');
          const all = listAll(w.snapshots, p, (s) => (!ids || ids.includes(s.SnapshotId)) && (!p.DiskId || s.SourceDiskId === p.DiskId));
          const { items, page } = paginate(all, p, { max: 100, tokenMax: 100 });
          return { ...page, Snapshots: { Snapshot: items } };
        },
      },
      DescribeImages: {
        params: ['ImageId', 'ImageName', 'ImageOwnerAlias', 'OSType', 'Architecture', 'Status', 'InstanceType', 'Tag', 'ImageFamily', 'Usage', 'ActionType', ...PAGE],
        run: (p) => {
          region(p);
          const ids = p.ImageId ? p.ImageId.split(',') : null;
          const all = listAll(w.images, p, (i) => (!ids || ids.includes(i.ImageId)) && (!p.OSType || i.OSType === p.OSType)
            && (!p.ImageOwnerAlias || p.ImageOwnerAlias.split(',').includes(i.ImageOwnerAlias)));
          const { items, page } = paginate(all, p, { max: 100, token: false });
          return { ...page, RegionId: p.RegionId, Images: { Image: items.map(({ RegionId: _r, ...i }) => i) } };
        },
      },
      DescribeKeyPairs: {
        params: ['KeyPairName', 'KeyPairFingerPrint', 'Tag', ...PAGE],
        run: (p) => {
          region(p);
          const all = listAll(w.keypairs, p, (k) => !p.KeyPairName || k.KeyPairName === p.KeyPairName);
          const { items, page } = paginate(all, p, { max: 50, token: false });
          return { ...page, KeyPairs: { KeyPair: items.map(({ RegionId: _r, ...k }) => k) } };
        },
      },
      DescribeSecurityGroups: {
        params: ['SecurityGroupIds', 'SecurityGroupId', 'VpcId', 'SecurityGroupName', 'NetworkType', 'Tag', 'SecurityGroupType', ...PAGE, ...TOKEN],
        run: (p) => {
          region(p);
          const ids = jsonList(p, 'SecurityGroupIds') ?? (p.SecurityGroupId ? [p.SecurityGroupId] : null);
          const all = listAll(w.groups, p, (g) => (!ids || ids.includes(g.SecurityGroupId)) && (!p.VpcId || g.VpcId === p.VpcId));
          const { items, page } = paginate(all, p, { max: 50, tokenMax: 100 });
          return { ...page, RegionId: p.RegionId, SecurityGroups: { SecurityGroup: items.map((g) => ({ SecurityGroupId: g.SecurityGroupId,
            SecurityGroupName: g.SecurityGroupName, Description: g.Description, VpcId: g.VpcId, SecurityGroupType: 'normal', CreationTime: g.CreationTime,
            RuleCount: g.rules.length, Tags: { Tag: [] } })) } };
        },
      },
      DescribeSecurityGroupAttribute: {
        params: ['SecurityGroupId', 'Direction', 'NicType', ...TOKEN],
        run: (p) => {
          region(p);
          const g = groupIn(p);
          const rules = g.rules.filter((r) => !p.Direction || p.Direction === 'all' || r.Direction === p.Direction);
          return { RegionId: g.RegionId, SecurityGroupId: g.SecurityGroupId, SecurityGroupName: g.SecurityGroupName, Description: g.Description,
            VpcId: g.VpcId, InnerAccessPolicy: 'Accept', Permissions: { Permission: rules.map((r) => ({ ...r, NicType: 'intranet', DestCidrIp: '' })) } };
        },
      },
      AuthorizeSecurityGroup: {
        params: ['SecurityGroupId', 'Permissions', 'IpProtocol', 'PortRange', 'SourceCidrIp', 'Policy', 'Priority', 'Description', 'NicType', 'SourceGroupId', 'SourcePortRange', 'DestCidrIp'],
        run: (p) => {
          region(p);
          const g = groupIn(p);
          const list = rulesOf(p);
          if (!list.length) throw missing('Permissions');
          for (const raw of list) {
            const r = parseRule(raw, p);
            const same = g.rules.find((x) => x.IpProtocol === r.IpProtocol && x.PortRange === r.PortRange && x.SourceCidrIp === r.SourceCidrIp && x.Policy === r.Policy);
            if (!same) g.rules.push({ SecurityGroupRuleId: `sgr-${String(++w.ruleSeq).padStart(12, '0')}`, ...r, CreateTime: isoSecond(now()) });
          }
          return {};
        },
      },
      RevokeSecurityGroup: {
        params: ['SecurityGroupId', 'SecurityGroupRuleId', 'Permissions', 'IpProtocol', 'PortRange', 'SourceCidrIp', 'Policy', 'Priority', 'Description', 'NicType', 'SourceGroupId', 'SourcePortRange', 'DestCidrIp'],
        run: (p) => {
          region(p);
          const g = groupIn(p);
          const ruleIds = repeated(p, 'SecurityGroupRuleId');
          if (ruleIds.length) {
            for (const id of ruleIds) if (!g.rules.some((r) => r.SecurityGroupRuleId === id)) throw err(404, 'InvalidSecurityGroupRuleId.NotFound', 'The specified security group rule does not exist.');
            g.rules = g.rules.filter((r) => !ruleIds.includes(r.SecurityGroupRuleId));
            return {};
          }
          const list = rulesOf(p);
          if (!list.length) throw missing('Permissions');
          for (const raw of list) {
            const r = parseRule(raw, p);
            g.rules = g.rules.filter((x) => !(x.IpProtocol === r.IpProtocol && x.PortRange === r.PortRange && x.SourceCidrIp === r.SourceCidrIp && x.Policy === r.Policy));
          }
          return {};
        },
      },
      DescribeInstanceVncUrl: {
        params: ['InstanceId'],
        run: (p) => {
          region(p);
          const x = instanceIn(p);
          if (x.Status !== 'Running') throw badStatus();
          // A one-time ws:// URL on this fake's port, relayed to a real VNC server (../vnc-relay.mjs).
          return { VncUrl: vnc.issue(`ws://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`, x.InstanceId) };
        },
      },
    },
    vpc: {
      DescribeRegions: { params: ['AcceptLanguage', 'ProductType'], run: () => regionList() },
      DescribeVpcs: {
        params: ['VpcId', 'VpcName', 'IsDefault', 'VpcOwnerId', 'DhcpOptionsSetId', 'Tag', ...PAGE],
        run: (p) => {
          region(p);
          const ids = p.VpcId ? p.VpcId.split(',') : null;
          const all = listAll(w.vpcs, p, (v) => !ids || ids.includes(v.VpcId));
          const { items, page } = paginate(all, p, { max: 50, token: false });
          return { ...page, Vpcs: { Vpc: items.map(({ vswitches, ...v }) => ({ ...v, VSwitchIds: { VSwitchId: [...vswitches] } })) } };
        },
      },
      DescribeVSwitches: {
        params: ['VpcId', 'VSwitchId', 'ZoneId', 'VSwitchName', 'IsDefault', 'Tag', ...PAGE],
        run: (p) => {
          region(p);
          const all = listAll(w.vswitches, p, (v) => (!p.VpcId || v.VpcId === p.VpcId) && (!p.VSwitchId || v.VSwitchId === p.VSwitchId) && (!p.ZoneId || v.ZoneId === p.ZoneId));
          const { items, page } = paginate(all, p, { max: 50, token: false });
          return { ...page, VSwitches: { VSwitch: items } };
        },
      },
      DescribeEipAddresses: {
        params: ['AllocationId', 'EipAddress', 'Status', 'AssociatedInstanceId', 'AssociatedInstanceType', 'Tag', ...PAGE],
        run: (p) => {
          region(p);
          const ids = p.AllocationId ? p.AllocationId.split(',') : null;
          const all = listAll(w.eips, p, (e) => (!ids || ids.includes(e.AllocationId)) && (!p.Status || e.Status === p.Status)
            && (!p.AssociatedInstanceId || e.InstanceId === p.AssociatedInstanceId));
          const { items, page } = paginate(all, p, { max: 100, token: false });
          return { ...page, EipAddresses: { EipAddress: items.map(eipView) } };
        },
      },
      AssociateEipAddress: {
        params: ['AllocationId', 'InstanceId', 'InstanceType', 'PrivateIpAddress', 'Mode', 'VpcId', 'InstanceRegionId'],
        run: (p) => {
          region(p);
          const e = eipIn(p);
          if (!p.InstanceId) throw missing('InstanceId');
          if ((p.InstanceType ?? 'EcsInstance') !== 'EcsInstance') throw invalid('InstanceType');
          const x = instanceIn(p);
          if (e.Status !== 'Available') throw err(400, 'IncorrectEipStatus', 'The current status of the EIP does not support this operation.');
          if (x.eip) throw err(400, 'InvalidAssociation.Duplicated', 'The specified instance is already associated with an EIP.');
          bindEip(e, x);
          return {};
        },
      },
      UnassociateEipAddress: {
        params: ['AllocationId', 'InstanceId', 'InstanceType', 'PrivateIpAddress', 'Force'],
        run: (p) => {
          region(p);
          const e = eipIn(p);
          if (e.Status !== 'InUse' || (p.InstanceId && e.InstanceId !== p.InstanceId)) throw err(400, 'IncorrectEipStatus', 'The current status of the EIP does not support this operation.');
          const x = w.instances.get(e.InstanceId);
          if (x) x.eip = null;
          Object.assign(e, { Status: 'Available', InstanceId: '', InstanceType: '' });
          return {};
        },
      },
    },
  };
  // CloudMonitor and ECS DescribePrice (./cms.mjs).
  api.cms = cmsApi({ instances: w.instances, err, missing, now });
  Object.assign(api.ecs, describePriceApi({ region, types: TYPES, images: IMAGES, err, missing, currency: opts.currency }));
  function eipIn(p) {
    if (!p.AllocationId) throw missing('AllocationId');
    const e = w.eips.get(p.AllocationId);
    if (!e || e.RegionId !== p.RegionId) throw err(404, 'InvalidAllocationId.NotFound', 'The specified EIP does not exist.');
    return e;
  }

  /** Verifies the signature; answers the access key used. */
  function authenticate(method, url, headers, body, params) {
    const auth = headers.authorization;
    if (auth) {
      const a = parseAcs3Authorization(auth);
      if (!a) throw err(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
      const secret = secrets.get(a.accessKeyId);
      if (secret === undefined) throw err(404, 'InvalidAccessKeyId.NotFound', 'The Access Key ID provided does not exist in our records.');
      for (const h of ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
        if (!a.signedHeaders.includes(h) || headers[h] === undefined) throw err(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards: ${h} is not signed.`);
      }
      for (const h of Object.keys(headers)) {
        if (h.startsWith('x-acs-') && !a.signedHeaders.includes(h)) throw err(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards: ${h} is not signed.`);
      }
      if (headers['x-acs-content-sha256'] !== sha256Hex(body)) throw err(400, 'SignatureDoesNotMatch', 'The x-acs-content-sha256 header does not match the request body.');
      const date = Date.parse(headers['x-acs-date']);
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(headers['x-acs-date']) || Number.isNaN(date)) throw err(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
      if (Math.abs(date - now()) > o.clockSkewMs) throw err(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
      const query = [...url.searchParams.entries()];
      const { canonicalRequest } = acs3CanonicalRequest({ method, path: url.pathname, query, headers, signedHeaders: a.signedHeaders, hashedPayload: headers['x-acs-content-sha256'] });
      const stringToSign = acs3StringToSign(canonicalRequest);
      if (!safeEqual(acs3Signature(secret, stringToSign), a.signature)) {
        throw err(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`);
      }
      if (headers['x-acs-action'] !== params.Action || headers['x-acs-version'] !== params.Version) throw err(400, 'InvalidParameter', 'x-acs-action or x-acs-version does not match the request.');
      useNonce(headers['x-acs-signature-nonce']);
      return { accessKeyId: a.accessKeyId, signature: 'ACS3-HMAC-SHA256' };
    }
    if (params.Signature === undefined) throw err(400, 'MissingParameter', 'The input parameter "Signature" that is mandatory for processing this request is not supplied.');
    for (const k of ['AccessKeyId', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp', 'Version']) if (!params[k]) throw missing(k);
    if (params.SignatureMethod !== 'HMAC-SHA1') throw err(400, 'InvalidSignatureMethod', 'Specified signature method is not supported.');
    if (params.SignatureVersion !== '1.0') throw err(400, 'InvalidSignatureVersion', 'Specified signature version is not supported.');
    const secret = secrets.get(params.AccessKeyId);
    if (secret === undefined) throw err(404, 'InvalidAccessKeyId.NotFound', 'The Access Key ID provided does not exist in our records.');
    const ts = Date.parse(params.Timestamp);
    if (Number.isNaN(ts)) throw err(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    if (Math.abs(ts - now()) > o.clockSkewMs) throw err(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    const signed = Object.entries(params).filter(([k]) => k !== 'Signature');
    if (!safeEqual(rpcSignature(method, signed, secret), params.Signature)) {
      throw err(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${rpcStringToSign(method, signed)}`);
    }
    useNonce(params.SignatureNonce);
    return { accessKeyId: params.AccessKeyId, signature: 'HMAC-SHA1' };
  }
  function useNonce(n) {
    if (nonces.has(n)) throw err(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.add(n);
  }

  function productOf(host, version) {
    const label = String(host ?? '').split('.')[0]?.toLowerCase() ?? '';
    if (label === 'ecs' || label === 'vpc') return label;
    if (label === 'metrics') return 'cms'; // CloudMonitor's endpoint: metrics.<region>.aliyuncs.com
    return Object.entries(VERSIONS).find(([, v]) => v === version)?.[0] ?? null;
  }

  function takeFault(product, action) {
    const f = faults.find((x) => x.left > 0 && (!x.product || x.product === product)
      && (!x.action || (Array.isArray(x.action) ? x.action.includes(action) : x.action === action)));
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
      /** @type {Record<string, string>} */
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
      /** @type {Record<string, string>} */
      const params = Object.fromEntries(url.searchParams.entries());
      const ctype = headers['content-type'] ?? '';
      if (body.length && ctype.startsWith('application/x-www-form-urlencoded')) Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString()).entries()));
      else if (body.length && ctype.startsWith('application/json')) {
        try {
          flatten(JSON.parse(body.toString()), '', params);
        } catch { /* answered as a malformed request below */ }
      }
      if (headers['x-acs-action'] && params.Action === undefined) params.Action = headers['x-acs-action'];
      if (headers['x-acs-version'] && params.Version === undefined) params.Version = headers['x-acs-version'];
      const rec = { time: now(), method: req.method ?? 'GET', host: headers.host ?? '', product: productOf(headers.host, params.Version), action: params.Action ?? '',
        version: params.Version ?? '', params: { ...params }, signature: null, accessKeyId: null, status: 0, code: null };
      requests.push(rec);
      const requestId = randomUUID().toUpperCase();
      const send = (status, payload, extra = {}) => {
        rec.status = status;
        const text = JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId, 'content-length': Buffer.byteLength(text), ...extra });
        res.end(text);
      };
      const fail = (e, extra) => {
        rec.code = e.code;
        send(e.status, { RequestId: requestId, HostId: `${rec.product ?? 'ecs'}.aliyuncs.com`, Code: e.code, Message: e.message,
          Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}&product=${rec.product === 'vpc' ? 'Vpc' : 'Ecs'}&requestId=${requestId}` }, extra);
      };
      try {
        const who = authenticate(rec.method, url, headers, body, params);
        rec.signature = who.signature;
        rec.accessKeyId = who.accessKeyId;
        if (!params.Action) throw missing('Action');
        const product = rec.product;
        if (!product || VERSIONS[product] !== params.Version) throw err(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
        const op = api[product][params.Action];
        if (!op) throw err(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
        const f = takeFault(product, params.Action);
        if (f) {
          if (f.kind === 'reset') {
            rec.code = 'reset';
            req.socket.destroy();
            return;
          }
          const [status, code, message] = ALIYUN_FAULTS[f.kind] ?? [500, 'InternalError', 'Injected fault.'];
          fail(err(f.status ?? status, f.code ?? code, f.message ?? message), f.retryAfterMs !== undefined ? { 'x-acs-retry-after': String(f.retryAfterMs) } : {});
          return;
        }
        if (o.strictParams) {
          const allowed = [...COMMON, ...op.params];
          for (const k of Object.keys(params)) {
            const head = k.split('.')[0] ?? k;
            if (!allowed.includes(k) && !allowed.includes(head)) throw err(400, 'InvalidParameter', `The specified parameter "${k}" is not valid for ${params.Action}.`);
          }
        }
        if (bool(params.DryRun) && params.Action !== 'RunInstances') throw err(400, 'DryRunOperation', 'Request validation has been passed with DryRun flag set.');
        send(200, { RequestId: requestId, ...op.run(params) });
      } catch (e) {
        if (e instanceof ApiError) fail(e);
        else fail(err(500, 'InternalError', `The request processing has failed due to some unknown error: ${e?.message ?? e}`));
      }
    });
  });
  server.on('upgrade', (req, socket, head) => vnc.handleUpgrade(req, socket, head) || socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;

  return {
    endpoint: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    port,
    accessKeyId: o.accessKeyId,
    accessKeySecret: o.accessKeySecret,
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
      instances: () => [...w.instances.values()].map((x) => instanceView(w, settle(x, now()))),
      instance: (id) => { const x = w.instances.get(id); return x ? instanceView(w, settle(x, now())) : undefined; },
      disks: () => [...w.disks.values()].map(diskView),
      snapshots: () => [...w.snapshots.values()].map((s) => ({ ...s })),
      eips: () => [...w.eips.values()].map(eipView),
      securityGroupRules: (id) => (w.groups.get(id)?.rules ?? []).map((r) => ({ ...r })),
      vpcs: () => [...w.vpcs.values()].map(({ vswitches, ...v }) => ({ ...v, VSwitchIds: { VSwitchId: [...vswitches] } })),
      vswitches: () => [...w.vswitches.values()].map((v) => ({ ...v })),
      securityGroups: () => [...w.groups.values()].map(({ rules: _r, ...g }) => ({ ...g })),
    },
    vnc,
    close: () => new Promise((resolve) => {
      vnc.close();
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

/** {A:{B:[1,2]}} → A.B.1=1, A.B.2=2 (the RPC flat form). */
function flatten(v, prefix, out) {
  if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${prefix}.${i + 1}`, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else if (v !== undefined && v !== null) out[prefix] = String(v);
  return out;
}
