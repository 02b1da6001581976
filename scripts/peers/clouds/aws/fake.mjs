// A loopback fake of the EC2 Query API for tests and benchmarks: verifies every request's SigV4 signature with
// ./sigv4.mjs (independent of the SDK), checks Action, Version and parameters, keeps state per region, answers in
// EC2's XML wire format (namespace http://ec2.amazonaws.com/doc/2016-11-15/, `item` lists, `<Response><Errors>` errors),
// paginates (MaxResults/NextToken) and injects throttling (RequestLimitExceeded with Retry-After) and 5xx on demand.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { verify } from './sigv4.mjs';
import { createJsonServices, jsonAuthError } from './json-services.mjs';

export { EC2_METRICS, EC2_SAMPLE_SECONDS, ec2MetricSample, ec2Price } from './json-services.mjs';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const VERSION = '2016-11-15';
export const FAKE_ACCESS_KEY = 'AKIDSKYDECKFAKE00001';
export const FAKE_SECRET_KEY = 'skydeckFakeSecretKey/0123456789abcdefABCDEF';
export const FAKE_OWNER = '123456789012';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const el = (name, v) => (v === undefined || v === null ? '' : `<${name}>${esc(v)}</${name}>`);
const items = (name, list, f) => `<${name}>${list.map((x) => `<item>${f(x)}</item>`).join('')}</${name}>`;
const tagSet = (tags) => (tags && Object.keys(tags).length ? items('tagSet', Object.entries(tags), ([k, v]) => el('key', k) + el('value', v)) : '');
const hex = (seed, n) => createHash('sha256').update(seed).digest('hex').slice(0, n);

export class Ec2Error extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const bad = (code, message) => new Ec2Error(400, code, message);

const STATE_CODE = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
const TYPES = { 't3.micro': [2, 1024], 't3.small': [2, 2048], 't3.medium': [2, 4096], 'm5.large': [2, 8192], 'm5.xlarge': [4, 16384], 'c5.2xlarge': [8, 16384] };
const DEFAULT_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

function makeRegion(region, count, o) {
  const zones = ['a', 'b', 'c'].map((s, i) => ({ name: `${region}${s}`, id: `${region.slice(0, 3)}-az${i + 1}` }));
  const vpcId = `vpc-${hex(region + 'vpc', 17)}`;
  const vpcs = new Map([[vpcId, { id: vpcId, cidr: '10.0.0.0/16', tags: { Name: `${region}-main` }, isDefault: true }]]);
  const subnets = new Map(
    zones.map((z, i) => {
      const id = `subnet-${hex(region + 'subnet' + i, 17)}`;
      return [id, { id, vpcId, cidr: `10.0.${i}.0/24`, zone: z.name, tags: { Name: `${region}-subnet-${i}` } }];
    }),
  );
  const sgId = `sg-${hex(region + 'sg', 17)}`;
  const groups = new Map([
    [sgId, { id: sgId, name: 'default', description: 'default VPC security group', vpcId, tags: {}, ingress: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0', description: 'ssh' }] }],
  ]);
  const images = new Map();
  for (let i = 0; i < 3; i++) {
    const id = `ami-${hex(region + 'ami' + i, 17)}`;
    images.set(id, { id, name: ['debian-12-amd64', 'ubuntu-24.04-amd64', 'al2023-ami'][i], platform: 'Linux/UNIX', sizeGb: 8, created: '2026-01-0' + (i + 1) + 'T00:00:00.000Z', tags: {} });
  }
  const imageIds = [...images.keys()];
  const keyName = `${region}-admin`;
  const keypairs = new Map([[keyName, { id: `key-${hex(region + 'key', 17)}`, name: keyName, fingerprint: hex(region + 'fp', 32).replace(/(..)(?!$)/g, '$1:'), tags: {} }]]);
  const instances = new Map();
  const volumes = new Map();
  const typeNames = Object.keys(TYPES);
  const subnetList = [...subnets.values()];
  for (let i = 0; i < count; i++) {
    const id = `i-${hex(`${region}/${i}`, 17)}`;
    const subnet = subnetList[i % subnetList.length];
    const ip = `10.0.${subnetList.indexOf(subnet)}.${(i % 250) + 4}`;
    const volId = `vol-${hex(`${region}/${i}/root`, 17)}`;
    instances.set(id, {
      id,
      imageId: imageIds[i % imageIds.length],
      state: i % 10 === 9 ? 'stopped' : 'running',
      type: typeNames[i % typeNames.length],
      zone: subnet.zone,
      subnetId: subnet.id,
      vpcId,
      privateIp: ip,
      publicIp: i % 4 === 0 ? `54.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : null,
      mac: `0e:${hex(id, 10).replace(/(..)(?!$)/g, '$1:')}`,
      keyName,
      groups: [sgId],
      launchTime: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      tags: { Name: `${o.namePrefix ?? 'web'}-${String(i).padStart(5, '0')}`, env: i % 2 ? 'prod' : 'dev' },
      disableApiTermination: false,
      volumes: [{ volumeId: volId, device: '/dev/xvda' }],
    });
    volumes.set(volId, { id: volId, sizeGb: 8 + (i % 5) * 4, zone: subnet.zone, type: 'gp3', created: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(), instanceId: id, device: '/dev/xvda', tags: {} });
  }
  const addresses = new Map();
  for (let i = 0; i < Math.min(3, count); i++) {
    const alloc = `eipalloc-${hex(region + 'eip' + i, 17)}`;
    addresses.set(alloc, { allocationId: alloc, publicIp: `3.${i}.0.${10 + i}`, instanceId: null, associationId: null, tags: {} });
  }
  return { zones, vpcs, subnets, groups, images, keypairs, instances, volumes, snapshots: new Map(), addresses, seq: 0 };
}

/**
 * @param {import('./fake.d.mts').AwsFakeOptions} [o]
 */
export async function startAwsFake(o = {}) {
  const credentials = new Map([[o.accessKeyId ?? FAKE_ACCESS_KEY, o.secretAccessKey ?? FAKE_SECRET_KEY]]);
  /** accessKeyId → actions refused with UnauthorizedOperation */
  const denied = new Map();
  const regionNames = o.regions ?? DEFAULT_REGIONS;
  const regions = new Map();
  for (const r of regionNames) regions.set(r, makeRegion(r, o.instances?.[r] ?? (r === regionNames[0] ? (o.defaultInstances ?? 20) : 3), o));
  const injections = [];
  const stats = { requests: 0, byAction: {}, rejectedSignatures: 0, throttled: 0, failed5xx: 0, byService: {}, metricQueries: [], pricingFilters: [] };
  const expired = new Set();
  const instanceLimit = o.instanceLimit ?? 1_000_000;
  const offered = o.offeredTypes ?? Object.keys(TYPES);

  const page = (list, p, defMax = 1000) => {
    const max = p.MaxResults !== undefined ? Number(p.MaxResults) : null;
    if (max !== null && (!Number.isInteger(max) || max < 5 || max > 1000)) throw bad('InvalidParameterValue', `Value (${p.MaxResults}) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
    let start = 0;
    if (p.NextToken) {
      const m = /^skd-(\d+)$/.exec(Buffer.from(p.NextToken, 'base64').toString());
      if (!m) throw bad('InvalidParameterValue', 'The token provided is invalid');
      start = Number(m[1]);
    }
    const n = max ?? defMax;
    const slice = list.slice(start, start + n);
    const next = start + n < list.length && max !== null ? Buffer.from(`skd-${start + n}`).toString('base64') : null;
    return { slice, next };
  };
  const listOf = (p, prefix) => {
    const out = [];
    for (let i = 1; p[`${prefix}.${i}`] !== undefined; i++) out.push(p[`${prefix}.${i}`]);
    return out;
  };
  const filters = (p) => {
    const out = [];
    for (let i = 1; p[`Filter.${i}.Name`] !== undefined; i++) out.push({ name: p[`Filter.${i}.Name`], values: listOf(p, `Filter.${i}.Value`) });
    return out;
  };
  const need = (p, k) => {
    if (p[k] === undefined || p[k] === '') throw bad('MissingParameter', `The request must contain the parameter ${k}`);
    return p[k];
  };
  const instanceXml = (i) =>
    el('instanceId', i.id) +
    el('imageId', i.imageId) +
    `<instanceState>${el('code', STATE_CODE[i.state])}${el('name', i.state)}</instanceState>` +
    el('privateDnsName', `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`) +
    el('keyName', i.keyName) +
    el('amiLaunchIndex', 0) +
    el('instanceType', i.type) +
    el('launchTime', i.launchTime) +
    `<placement>${el('availabilityZone', i.zone)}${el('tenancy', 'default')}</placement>` +
    `<monitoring>${el('state', 'disabled')}</monitoring>` +
    el('subnetId', i.subnetId) +
    el('vpcId', i.vpcId) +
    el('privateIpAddress', i.privateIp) +
    el('ipAddress', i.publicIp) +
    items('groupSet', i.groups, (g) => el('groupId', g) + el('groupName', 'default')) +
    el('architecture', 'x86_64') +
    el('rootDeviceType', 'ebs') +
    el('rootDeviceName', '/dev/xvda') +
    items('blockDeviceMapping', i.volumes, (v) => el('deviceName', v.device) + `<ebs>${el('volumeId', v.volumeId)}${el('status', 'attached')}${el('deleteOnTermination', true)}</ebs>`) +
    el('virtualizationType', 'hvm') +
    tagSet(i.tags) +
    items('networkInterfaceSet', [i], (x) => el('networkInterfaceId', `eni-${hex(x.id, 17)}`) + el('subnetId', x.subnetId) + el('vpcId', x.vpcId) + el('macAddress', x.mac) + el('privateIpAddress', x.privateIp) + el('status', 'in-use')) +
    `<cpuOptions>${el('coreCount', TYPES[i.type][0] / 2 || 1)}${el('threadsPerCore', 2)}</cpuOptions>` +
    el('platformDetails', 'Linux/UNIX');
  const stateChange = (r, ids, to, via) =>
    items('instancesSet', ids, (id) => {
      const i = r.instances.get(id);
      const prev = i.state;
      i.state = via ?? to;
      if (via) setTimeout(() => (i.state === via ? (i.state = to) : null), o.transitionMs ?? 20).unref();
      return el('instanceId', id) + `<currentState>${el('code', STATE_CODE[i.state])}${el('name', i.state)}</currentState><previousState>${el('code', STATE_CODE[prev])}${el('name', prev)}</previousState>`;
    });
  const instancesIn = (r, p) => {
    const ids = listOf(p, 'InstanceId');
    for (const id of ids) if (!r.instances.has(id)) throw bad('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return ids;
  };
  const tagsFrom = (p, resourceType) => {
    const tags = {};
    for (let i = 1; p[`TagSpecification.${i}.ResourceType`] !== undefined; i++) {
      if (p[`TagSpecification.${i}.ResourceType`] !== resourceType) continue;
      for (let j = 1; p[`TagSpecification.${i}.Tag.${j}.Key`] !== undefined; j++) tags[p[`TagSpecification.${i}.Tag.${j}.Key`]] = p[`TagSpecification.${i}.Tag.${j}.Value`] ?? '';
    }
    return tags;
  };
  const matchFilters = (p, x, fields) => filters(p).every((f) => (fields[f.name] ? f.values.includes(String(fields[f.name](x))) : true));
  const ruleList = (p) => {
    const out = [];
    for (let i = 1; p[`IpPermissions.${i}.IpProtocol`] !== undefined; i++) {
      const ranges = [];
      for (let j = 1; p[`IpPermissions.${i}.IpRanges.${j}.CidrIp`] !== undefined; j++) ranges.push({ cidr: p[`IpPermissions.${i}.IpRanges.${j}.CidrIp`], description: p[`IpPermissions.${i}.IpRanges.${j}.Description`] ?? '' });
      for (const rg of ranges.length ? ranges : [{ cidr: '0.0.0.0/0', description: '' }]) out.push({ protocol: p[`IpPermissions.${i}.IpProtocol`], from: Number(p[`IpPermissions.${i}.FromPort`] ?? -1), to: Number(p[`IpPermissions.${i}.ToPort`] ?? -1), ...rg });
    }
    if (p.IpProtocol !== undefined) out.push({ protocol: p.IpProtocol, from: Number(p.FromPort ?? -1), to: Number(p.ToPort ?? -1), cidr: p.CidrIp ?? '0.0.0.0/0', description: '' });
    if (!out.length) throw bad('MissingParameter', 'No IpPermissions given');
    return out;
  };

  const actions = {
    DescribeRegions: (r, p) => items('regionInfo', regionNames.filter((n) => !listOf(p, 'RegionName').length || listOf(p, 'RegionName').includes(n)), (n) => el('regionName', n) + el('regionEndpoint', `ec2.${n}.amazonaws.com`) + el('optInStatus', 'opt-in-not-required')),
    DescribeAvailabilityZones: (r) => items('availabilityZoneInfo', r.zones, (z) => el('zoneName', z.name) + el('zoneId', z.id) + el('zoneState', 'available') + el('regionName', r.name) + el('zoneType', 'availability-zone')),
    DescribeVpcs: (r, p) => {
      const { slice, next } = page([...r.vpcs.values()], p);
      return items('vpcSet', slice, (v) => el('vpcId', v.id) + el('state', 'available') + el('cidrBlock', v.cidr) + el('ownerId', FAKE_OWNER) + el('isDefault', v.isDefault) + tagSet(v.tags)) + el('nextToken', next);
    },
    DescribeSubnets: (r, p) => {
      const { slice, next } = page([...r.subnets.values()].filter((s) => matchFilters(p, s, { 'vpc-id': (x) => x.vpcId })), p);
      return items('subnetSet', slice, (s) => el('subnetId', s.id) + el('state', 'available') + el('vpcId', s.vpcId) + el('cidrBlock', s.cidr) + el('availableIpAddressCount', 250) + el('availabilityZone', s.zone) + tagSet(s.tags)) + el('nextToken', next);
    },
    DescribeSecurityGroups: (r, p) => {
      const { slice, next } = page([...r.groups.values()], p);
      const perm = (x) => el('ipProtocol', x.protocol) + (x.from >= 0 ? el('fromPort', x.from) + el('toPort', x.to) : '') + items('groups', [], () => '') + items('ipRanges', [x], (y) => el('cidrIp', y.cidr) + el('description', y.description || undefined)) + items('ipv6Ranges', [], () => '') + items('prefixListIds', [], () => '');
      return (
        items('securityGroupInfo', slice, (g) => el('ownerId', FAKE_OWNER) + el('groupId', g.id) + el('groupName', g.name) + el('groupDescription', g.description) + el('vpcId', g.vpcId) + items('ipPermissions', g.ingress, perm) + items('ipPermissionsEgress', [{ protocol: '-1', from: -1, to: -1, cidr: '0.0.0.0/0', description: '' }], perm) + tagSet(g.tags)) +
        el('nextToken', next)
      );
    },
    DescribeInstances: (r, p) => {
      const ids = instancesIn(r, p);
      if (ids.length && p.MaxResults !== undefined) throw bad('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
      const all = ids.length ? ids.map((id) => r.instances.get(id)) : [...r.instances.values()].filter((i) => matchFilters(p, i, { 'instance-state-name': (x) => x.state }));
      const { slice, next } = page(all, p);
      // One reservation per instance, as instances launched one by one are listed.
      return items('reservationSet', slice, (i) => el('reservationId', `r-${hex(i.id, 17)}`) + el('ownerId', FAKE_OWNER) + items('groupSet', [], () => '') + items('instancesSet', [i], instanceXml)) + el('nextToken', next);
    },
    DescribeVolumes: (r, p) => {
      const { slice, next } = page([...r.volumes.values()], p);
      return items('volumeSet', slice, (v) => el('volumeId', v.id) + el('size', v.sizeGb) + el('availabilityZone', v.zone) + el('status', v.instanceId ? 'in-use' : 'available') + el('createTime', v.created) + el('volumeType', v.type) + el('encrypted', false) + items('attachmentSet', v.instanceId ? [v] : [], (a) => el('volumeId', a.id) + el('instanceId', a.instanceId) + el('device', a.device) + el('status', 'attached') + el('deleteOnTermination', true)) + tagSet(v.tags)) + el('nextToken', next);
    },
    DescribeSnapshots: (r, p) => {
      const { slice, next } = page([...r.snapshots.values()], p);
      return items('snapshotSet', slice, (s) => el('snapshotId', s.id) + el('volumeId', s.volumeId) + el('status', 'completed') + el('startTime', s.created) + el('progress', '100%') + el('ownerId', FAKE_OWNER) + el('volumeSize', s.sizeGb) + el('description', s.description) + el('encrypted', false) + tagSet(s.tags)) + el('nextToken', next);
    },
    DescribeImages: (r, p) => {
      const { slice, next } = page([...r.images.values()], p);
      return items('imagesSet', slice, (m) => el('imageId', m.id) + el('imageLocation', `amazon/${m.name}`) + el('imageState', 'available') + el('imageOwnerId', FAKE_OWNER) + el('creationDate', m.created) + el('isPublic', false) + el('architecture', 'x86_64') + el('imageType', 'machine') + el('name', m.name) + el('rootDeviceType', 'ebs') + el('platformDetails', m.platform) + items('blockDeviceMapping', [m], (x) => el('deviceName', '/dev/xvda') + `<ebs>${el('volumeSize', x.sizeGb)}${el('volumeType', 'gp3')}</ebs>`) + tagSet(m.tags)) + el('nextToken', next);
    },
    DescribeAddresses: (r) => items('addressesSet', [...r.addresses.values()], (a) => el('publicIp', a.publicIp) + el('allocationId', a.allocationId) + el('domain', 'vpc') + el('instanceId', a.instanceId) + el('associationId', a.associationId) + tagSet(a.tags)),
    DescribeKeyPairs: (r) => items('keySet', [...r.keypairs.values()], (k) => el('keyPairId', k.id) + el('keyName', k.name) + el('keyFingerprint', k.fingerprint) + el('keyType', 'ed25519') + tagSet(k.tags)),
    StartInstances: (r, p) => stateChange(r, instancesIn(r, p), 'running', 'pending'),
    StopInstances: (r, p) => stateChange(r, instancesIn(r, p), 'stopped', 'stopping'),
    RebootInstances: (r, p) => (instancesIn(r, p), el('return', true)),
    TerminateInstances: (r, p) => {
      const ids = instancesIn(r, p);
      for (const id of ids) if (r.instances.get(id).disableApiTermination) throw bad('OperationNotPermitted', `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
      const out = stateChange(r, ids, 'terminated', 'shutting-down');
      for (const id of ids) for (const v of r.instances.get(id).volumes) r.volumes.delete(v.volumeId);
      return out;
    },
    DescribeInstanceAttribute: (r, p) => {
      const id = need(p, 'InstanceId');
      const i = r.instances.get(id);
      if (!i) throw bad('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      const a = need(p, 'Attribute');
      if (a === 'disableApiTermination') return el('instanceId', id) + `<disableApiTermination>${el('value', i.disableApiTermination)}</disableApiTermination>`;
      if (a === 'instanceType') return el('instanceId', id) + `<instanceType>${el('value', i.type)}</instanceType>`;
      throw bad('InvalidParameterValue', `Value (${a}) for parameter attribute is invalid.`);
    },
    ModifyInstanceAttribute: (r, p) => {
      const id = need(p, 'InstanceId');
      const i = r.instances.get(id);
      if (!i) throw bad('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      if (p['InstanceType.Value'] !== undefined) {
        const t = p['InstanceType.Value'];
        if (!TYPES[t]) throw bad('InvalidParameterValue', `Value (${t}) for parameter instanceType is invalid. Instance type not found.`);
        if (i.state !== 'stopped') throw new Ec2Error(400, 'IncorrectInstanceState', `The instance '${id}' is not in the 'stopped' state.`);
        i.type = t;
      }
      if (p['DisableApiTermination.Value'] !== undefined) i.disableApiTermination = p['DisableApiTermination.Value'] === 'true';
      return el('return', true);
    },
    RunInstances: (r, p) => {
      const imageId = need(p, 'ImageId');
      const type = p.InstanceType ?? 'm5.large';
      const min = Number(need(p, 'MinCount'));
      const max = Number(need(p, 'MaxCount'));
      if (!r.images.has(imageId)) throw bad('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
      if (!TYPES[type]) throw bad('InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
      const subnet = p.SubnetId ? r.subnets.get(p.SubnetId) : [...r.subnets.values()][0];
      if (!subnet) throw bad('InvalidSubnetID.NotFound', `The subnet ID '${p.SubnetId}' does not exist`);
      if (!offered.includes(type)) throw bad('Unsupported', `Your requested instance type (${type}) is not supported in your requested Availability Zone (${subnet.zone}). Please retry your request by not specifying an Availability Zone or choosing ${offered.slice(0, 3).join(', ')}.`);
      const running = [...r.instances.values()].filter((i) => i.state !== 'terminated').length;
      if (running + min > instanceLimit) throw bad('InstanceLimitExceeded', `You have requested more instances (${running + min}) than your current instance limit of ${instanceLimit} allows for the specified instance type.`);
      const sgs = listOf(p, 'SecurityGroupId');
      for (const g of sgs) if (!r.groups.has(g)) throw bad('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
      if (p.KeyName && !r.keypairs.has(p.KeyName)) throw bad('InvalidKeyPair.NotFound', `The key pair '${p.KeyName}' does not exist`);
      const tags = tagsFrom(p, 'instance');
      const made = [];
      for (let n = 0; n < max; n++) {
        const seq = ++r.seq;
        const id = `i-${hex(`${r.name}/run/${seq}`, 17)}`;
        const volId = `vol-${hex(`${r.name}/run/${seq}/root`, 17)}`;
        const size = Number(p['BlockDeviceMapping.1.Ebs.VolumeSize'] ?? 8);
        const inst = { id, imageId, state: 'pending', type, zone: subnet.zone, subnetId: subnet.id, vpcId: subnet.vpcId, privateIp: `10.0.9.${seq % 250}`, publicIp: null, mac: `0e:${hex(id, 10).replace(/(..)(?!$)/g, '$1:')}`, keyName: p.KeyName ?? null, groups: sgs.length ? sgs : [[...r.groups.keys()][0]], launchTime: new Date().toISOString(), tags, disableApiTermination: p.DisableApiTermination === 'true', volumes: [{ volumeId: volId, device: '/dev/xvda' }] };
        r.instances.set(id, inst);
        r.volumes.set(volId, { id: volId, sizeGb: size, zone: subnet.zone, type: 'gp3', created: inst.launchTime, instanceId: id, device: '/dev/xvda', tags: {} });
        setTimeout(() => (inst.state === 'pending' ? (inst.state = 'running') : null), o.transitionMs ?? 20).unref();
        made.push(inst);
      }
      return el('reservationId', `r-${hex(made[0].id, 17)}`) + el('ownerId', FAKE_OWNER) + items('groupSet', [], () => '') + items('instancesSet', made, instanceXml);
    },
    AttachVolume: (r, p) => {
      const v = r.volumes.get(need(p, 'VolumeId'));
      const i = r.instances.get(need(p, 'InstanceId'));
      if (!v) throw bad('InvalidVolume.NotFound', `The volume '${p.VolumeId}' does not exist.`);
      if (!i) throw bad('InvalidInstanceID.NotFound', `The instance ID '${p.InstanceId}' does not exist`);
      if (v.instanceId) throw bad('VolumeInUse', `${v.id} is already attached to an instance`);
      if (v.zone !== i.zone) throw bad('InvalidVolume.ZoneMismatch', `The volume '${v.id}' is not in the same availability zone as instance '${i.id}'`);
      v.instanceId = i.id;
      v.device = need(p, 'Device');
      i.volumes.push({ volumeId: v.id, device: v.device });
      return el('volumeId', v.id) + el('instanceId', i.id) + el('device', v.device) + el('status', 'attaching') + el('attachTime', new Date().toISOString());
    },
    DetachVolume: (r, p) => {
      const v = r.volumes.get(need(p, 'VolumeId'));
      if (!v) throw bad('InvalidVolume.NotFound', `The volume '${p.VolumeId}' does not exist.`);
      if (!v.instanceId) throw new Ec2Error(400, 'IncorrectState', `Volume '${v.id}' is in the 'available' state.`);
      const i = r.instances.get(v.instanceId);
      const out = el('volumeId', v.id) + el('instanceId', v.instanceId) + el('device', v.device) + el('status', 'detaching') + el('attachTime', v.created);
      if (i) i.volumes = i.volumes.filter((x) => x.volumeId !== v.id);
      v.instanceId = null;
      return out;
    },
    CreateVolume: (r, p) => {
      const zone = need(p, 'AvailabilityZone');
      if (!r.zones.some((z) => z.name === zone)) throw bad('InvalidZone.NotFound', `The zone '${zone}' does not exist.`);
      const id = `vol-${hex(`${r.name}/vol/${++r.seq}`, 17)}`;
      const v = { id, sizeGb: Number(need(p, 'Size')), zone, type: p.VolumeType ?? 'gp3', created: new Date().toISOString(), instanceId: null, device: null, tags: tagsFrom(p, 'volume') };
      r.volumes.set(id, v);
      return el('volumeId', id) + el('size', v.sizeGb) + el('availabilityZone', zone) + el('status', 'creating') + el('createTime', v.created) + el('volumeType', v.type) + el('encrypted', false);
    },
    CreateSnapshot: (r, p) => {
      const v = r.volumes.get(need(p, 'VolumeId'));
      if (!v) throw bad('InvalidVolume.NotFound', `The volume '${p.VolumeId}' does not exist.`);
      const id = `snap-${hex(`${r.name}/snap/${++r.seq}`, 17)}`;
      const s = { id, volumeId: v.id, sizeGb: v.sizeGb, created: new Date().toISOString(), description: p.Description ?? '', tags: tagsFrom(p, 'snapshot') };
      r.snapshots.set(id, s);
      return el('snapshotId', id) + el('volumeId', v.id) + el('status', 'pending') + el('startTime', s.created) + el('progress', '') + el('ownerId', FAKE_OWNER) + el('volumeSize', s.sizeGb) + el('description', s.description) + el('encrypted', false);
    },
    DeleteSnapshot: (r, p) => {
      const id = need(p, 'SnapshotId');
      if (!r.snapshots.delete(id)) throw bad('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
      return el('return', true);
    },
    AssociateAddress: (r, p) => {
      const a = r.addresses.get(need(p, 'AllocationId'));
      if (!a) throw bad('InvalidAllocationID.NotFound', `The allocation ID '${p.AllocationId}' does not exist`);
      const i = r.instances.get(need(p, 'InstanceId'));
      if (!i) throw bad('InvalidInstanceID.NotFound', `The instance ID '${p.InstanceId}' does not exist`);
      if (a.associationId && p.AllowReassociation !== 'true') throw bad('Resource.AlreadyAssociated', `resource ${a.allocationId} is already associated with associate-id ${a.associationId}`);
      a.instanceId = i.id;
      a.associationId = `eipassoc-${hex(a.allocationId + i.id, 17)}`;
      i.publicIp = a.publicIp;
      return el('return', true) + el('associationId', a.associationId);
    },
    DisassociateAddress: (r, p) => {
      const id = need(p, 'AssociationId');
      const a = [...r.addresses.values()].find((x) => x.associationId === id);
      if (!a) throw bad('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
      const i = r.instances.get(a.instanceId);
      if (i) i.publicIp = null;
      a.instanceId = null;
      a.associationId = null;
      return el('return', true);
    },
    AuthorizeSecurityGroupIngress: (r, p) => {
      const g = r.groups.get(need(p, 'GroupId'));
      if (!g) throw bad('InvalidGroup.NotFound', `The security group '${p.GroupId}' does not exist`);
      const rules = ruleList(p);
      for (const x of rules) if (g.ingress.some((y) => y.protocol === x.protocol && y.from === x.from && y.to === x.to && y.cidr === x.cidr)) throw bad('InvalidPermission.Duplicate', `the specified rule "peer: ${x.cidr}, ${x.protocol.toUpperCase()}, from port: ${x.from}, to port: ${x.to}, ALLOW" already exists`);
      g.ingress.push(...rules);
      return el('return', true);
    },
    RevokeSecurityGroupIngress: (r, p) => {
      const g = r.groups.get(need(p, 'GroupId'));
      if (!g) throw bad('InvalidGroup.NotFound', `The security group '${p.GroupId}' does not exist`);
      for (const x of ruleList(p)) {
        const k = g.ingress.findIndex((y) => y.protocol === x.protocol && y.from === x.from && y.to === x.to && y.cidr === x.cidr);
        if (k < 0) throw bad('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
        g.ingress.splice(k, 1);
      }
      return el('return', true);
    },
  };

  // CloudWatch (service `monitoring`) and the Price List API (service `pricing`) share the endpoint: the credential
  // scope's service picks the API, as the endpoint override sends every client here.
  const json = createJsonServices({
    // The region's instances by id (a Map: has(id)), not a copy: GetMetricData asks once per query, 500 a call.
    instanceIds: (name) => regions.get(name)?.instances ?? null,
    stats,
    metricsPageSize: o.metricsPageSize ?? 100_800,
    pricingPageSize: o.pricingPageSize ?? 100,
    now: () => Date.now(),
  });
  const takeInjection = (service, action, region) => {
    const k = injections.findIndex((x) => (!x.action || x.action === action) && (!x.region || x.region === region) && (!x.service || x.service === service) && x.remaining > 0);
    if (k < 0) return null;
    injections[k].remaining--;
    return injections[k];
  };

  const errorXml = (code, message, requestId) => `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  let reqSeq = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const requestId = `${hex(String(++reqSeq), 8)}-0000-4000-8000-${hex('r' + reqSeq, 12)}`;
      const send = (status, xml, headers = {}) => {
        res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId, ...headers });
        res.end(xml);
      };
      const fail = (status, code, message, headers) => send(status, errorXml(code, message, requestId), headers);
      stats.requests++;
      const body = Buffer.concat(chunks);
      const u = new URL(req.url ?? '/', 'http://x');
      const v = verify({ method: req.method ?? 'GET', path: u.pathname, query: u.search.slice(1), headers: /** @type {any} */ (req.headers), body }, (k) => (expired.has(k) ? credentials.get(k) ?? null : (credentials.get(k) ?? null)));
      const scopeService = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const sendJson = (r) => {
        res.writeHead(r.status, { 'x-amzn-requestid': requestId, ...r.headers });
        res.end(r.body);
      };
      if (!v.ok) {
        stats.rejectedSignatures++;
        if (scopeService === 'monitoring' || scopeService === 'pricing') return sendJson(jsonAuthError(scopeService, v.code, v.message));
        return fail(v.code === 'AuthFailure' ? 401 : 403, v.code, v.message);
      }
      stats.byService[v.service] = (stats.byService[v.service] ?? 0) + 1;
      if (v.service === 'monitoring' || v.service === 'pricing') {
        if (expired.has(v.accessKeyId)) return sendJson(jsonAuthError(v.service, 'ExpiredToken', ''));
        try {
          return sendJson(json.handle({ service: v.service, region: v.region, headers: req.headers, body, inject: (action) => takeInjection(v.service, action, v.region) }));
        } catch (e) {
          return sendJson({ status: 500, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify({ __type: 'InternalFailure', message: String(e?.stack ?? e) }) });
        }
      }
      if (expired.has(v.accessKeyId)) return fail(400, 'RequestExpired', 'Request has expired.');
      if (v.service !== 'ec2') return fail(400, 'InvalidAction', `service ${v.service} is not ec2`);
      const p = Object.fromEntries(new URLSearchParams(req.method === 'POST' ? body.toString() : u.search.slice(1)));
      const action = p.Action;
      if (!action || !actions[action]) return fail(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
      if (p.Version !== VERSION) return fail(400, 'InvalidParameterValue', `Version ${p.Version} is not supported`);
      stats.byAction[action] = (stats.byAction[action] ?? 0) + 1;
      const region = regions.get(v.region);
      if (!region) return fail(401, 'AuthFailure', `AWS was not able to validate the provided access credentials (region ${v.region} is not enabled for this account)`);
      region.name = v.region;
      const x = takeInjection('ec2', action, v.region);
      if (x) {
        if (x.kind === 'throttle') {
          stats.throttled++;
          return fail(503, 'RequestLimitExceeded', 'Request limit exceeded.', x.retryAfterSeconds !== undefined ? { 'retry-after': String(x.retryAfterSeconds) } : {});
        }
        stats.failed5xx++;
        return fail(x.status ?? 500, x.status === 503 ? 'Unavailable' : 'InternalError', 'An internal error has occurred');
      }
      if (denied.get(v.accessKeyId)?.has(action)) return fail(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.');
      try {
        const inner = actions[action](region, p);
        send(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`);
      } catch (e) {
        if (e instanceof Ec2Error) return fail(e.status, e.code, e.message);
        fail(500, 'InternalError', String(e?.message ?? e));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  const endpoint = `http://127.0.0.1:${addr.port}`;
  return {
    endpoint,
    accessKeyId: o.accessKeyId ?? FAKE_ACCESS_KEY,
    secretAccessKey: o.secretAccessKey ?? FAKE_SECRET_KEY,
    regions: regionNames,
    stats,
    /** The live state of a region (tests change it to see a sync follow). */
    region: (name) => {
      const r = regions.get(name);
      if (!r) throw new Error(`no region ${name}`);
      r.name = name;
      return r;
    },
    /** Fails the next `count` matching requests: RequestLimitExceeded (503, Retry-After) or a 5xx. */
    inject: (x) => injections.push({ remaining: x.count ?? 1, ...x }),
    clearInjections: () => injections.splice(0),
    addCredentials: (id, secret) => credentials.set(id, secret),
    expire: (id) => expired.add(id),
    deny: (id, actionNames) => denied.set(id, new Set(actionNames)),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve(undefined)); }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await startAwsFake({ defaultInstances: Number(process.env.INSTANCES ?? 20) });
  console.log(JSON.stringify({ endpoint: f.endpoint, accessKeyId: f.accessKeyId, secretAccessKey: f.secretAccessKey, regions: f.regions }));
}
