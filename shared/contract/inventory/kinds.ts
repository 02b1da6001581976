import { z } from 'zod';
import { isoTime } from '../common';
import { nameSchema, resourceBase } from './base';

/** The resource kinds of the region controller's model, each an item schema (what a list row and `get` answer). */

export const quotaSchema = z.object({
  guests: z.number().int().min(0).nullable(),
  vcpu: z.number().int().min(0).nullable(),
  memoryMb: z.number().int().min(0).nullable(),
  storageGb: z.number().int().min(0).nullable(),
  ips: z.number().int().min(0).nullable(),
});
export type Quota = z.infer<typeof quotaSchema>;
export const QUOTA_KEYS = ['guests', 'vcpu', 'memoryMb', 'storageGb', 'ips'] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number];
export const usageSchema = z.object({ guests: z.number(), vcpu: z.number(), memoryMb: z.number(), storageGb: z.number(), ips: z.number() });
export type Usage = z.infer<typeof usageSchema>;

export const projectSchema = z.object({
  ...resourceBase,
  description: z.string(),
  /** null = unlimited */
  quota: quotaSchema,
  /** Committed usage plus what running tasks have reserved. */
  usage: usageSchema,
  pending: usageSchema,
});

export const cloudAccountSchema = z.object({
  ...resourceBase,
  regions: z.array(z.string()),
  health: z.enum(['ok', 'error', 'unknown']),
  lastError: z.string().nullable(),
  lastSyncAt: isoTime.nullable(),
  syncIntervalMinutes: z.number().int(),
});

export const regionSchema = z.object({ ...resourceBase, cloudAccountId: z.string().nullable() });
export const zoneSchema = z.object({ ...resourceBase, regionId: z.string().nullable(), description: z.string() });

export const hostSchema = z.object({
  ...resourceBase,
  zoneId: z.string().nullable(),
  address: z.string(),
  hypervisor: z.enum(['kvm', 'esxi', 'baremetal']),
  enabled: z.boolean(),
  maintenance: z.boolean(),
  /** Why the host is in its status (e.g. the SSH error when unreachable). */
  statusReason: z.string().nullable(),
  cpuModel: z.string(),
  cpuCores: z.number().int(),
  memoryMb: z.number().int(),
  storageGb: z.number(),
  cpuOvercommit: z.number(),
  memoryOvercommit: z.number(),
  storageOvercommit: z.number(),
  cpuAllocated: z.number().int(),
  memoryAllocatedMb: z.number().int(),
  storageAllocatedGb: z.number(),
  guestCount: z.number().int(),
  agentVersion: z.string().nullable(),
  lastSeenAt: isoTime.nullable(),
});

export const storageSchema = z.object({
  ...resourceBase,
  zoneId: z.string().nullable(),
  hostId: z.string().nullable(),
  type: z.enum(['local', 'lvm', 'nfs', 'rbd', 'cloud']),
  capacityGb: z.number(),
  usedGb: z.number(),
});

export const wireSchema = z.object({ ...resourceBase, zoneId: z.string().nullable(), bandwidthMbps: z.number().int(), description: z.string() });

export const networkSchema = z.object({
  ...resourceBase,
  wireId: z.string().nullable(),
  projectId: z.string().nullable(),
  cidr: z.string(),
  gateway: z.string().nullable(),
  vlan: z.number().int().nullable(),
  dns: z.array(z.string()),
  ipStart: z.string(),
  ipEnd: z.string(),
  totalIps: z.number().int(),
  usedIps: z.number().int(),
});

export const nicSchema = z.object({ index: z.number().int(), mac: z.string(), ip: z.string().nullable(), networkId: z.string().nullable(), bridge: z.string().nullable() });

export const guestSchema = z.object({
  ...resourceBase,
  hostId: z.string().nullable(),
  projectId: z.string().nullable(),
  zoneId: z.string().nullable(),
  cloudAccountId: z.string().nullable(),
  vcpu: z.number().int(),
  memoryMb: z.number().int(),
  os: z.string(),
  instanceType: z.string().nullable(),
  bootOrder: z.array(z.string()),
  ips: z.array(z.string()),
  nics: z.array(nicSchema),
  vncPort: z.number().int().nullable(),
  diskGb: z.number(),
});

export const diskSchema = z.object({
  ...resourceBase,
  guestId: z.string().nullable(),
  storageId: z.string().nullable(),
  projectId: z.string().nullable(),
  sizeGb: z.number(),
  format: z.string(),
  index: z.number().int().nullable(),
  bootable: z.boolean(),
});

export const snapshotSchema = z.object({ ...resourceBase, diskId: z.string().nullable(), guestId: z.string().nullable(), sizeGb: z.number() });
export const imageSchema = z.object({ ...resourceBase, os: z.string(), format: z.string(), sizeGb: z.number(), minDiskGb: z.number() });

export const securityGroupRuleSchema = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out']),
  protocol: z.enum(['any', 'tcp', 'udp', 'icmp']),
  ports: z.string(),
  cidr: z.string(),
  action: z.enum(['allow', 'deny']),
  priority: z.number().int(),
  description: z.string(),
});
export const securityGroupSchema = z.object({ ...resourceBase, projectId: z.string().nullable(), description: z.string(), rules: z.array(securityGroupRuleSchema) });
export const eipSchema = z.object({ ...resourceBase, ip: z.string(), bandwidthMbps: z.number().int(), guestId: z.string().nullable(), cloudAccountId: z.string().nullable() });
export const keypairSchema = z.object({ ...resourceBase, fingerprint: z.string(), publicKey: z.string(), projectId: z.string().nullable() });

/** API kind name → item schema. The kind name is the command domain and the GET resource (`/api/v1/hosts`). */
export const RESOURCE_KINDS = {
  projects: projectSchema,
  cloudAccounts: cloudAccountSchema,
  regions: regionSchema,
  zones: zoneSchema,
  hosts: hostSchema,
  storages: storageSchema,
  wires: wireSchema,
  networks: networkSchema,
  guests: guestSchema,
  disks: diskSchema,
  snapshots: snapshotSchema,
  images: imageSchema,
  securityGroups: securityGroupSchema,
  eips: eipSchema,
  keypairs: keypairSchema,
} as const;
export type ResourceKind = keyof typeof RESOURCE_KINDS;
export type ResourceOf<K extends ResourceKind> = z.infer<(typeof RESOURCE_KINDS)[K]>;
export const RESOURCE_KIND_NAMES = Object.keys(RESOURCE_KINDS) as ResourceKind[];

// ---- inputs of the commands that create and change resources -------------------------------------------------------

const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, 'not an IPv4 address');
export const ipv4Schema = ipv4;
export const cidrSchema = z.string().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/([0-9]|[12]\d|3[0-2])$/, 'not an IPv4 CIDR like 10.0.0.0/24');
const tagsInput = z.record(z.string().min(1).max(128).regex(/^[^=,\s][^=,]*$/, 'a tag key has no "=" or ","'), z.string().max(256)).default({});

export const projectCreate = z.object({ name: nameSchema, description: z.string().max(1024).default(''), quota: quotaSchema.partial().default({}), tags: tagsInput }).strict();
export const projectUpdate = z.object({ id: z.string(), name: nameSchema.optional(), description: z.string().max(1024).optional(), quota: quotaSchema.partial().optional() }).strict();
export const zoneCreate = z.object({ name: nameSchema, regionId: z.string().nullable().default(null), description: z.string().max(1024).default(''), tags: tagsInput }).strict();
export const wireCreate = z.object({ name: nameSchema, zoneId: z.string(), bandwidthMbps: z.number().int().min(1).max(1_000_000).default(10_000), description: z.string().max(1024).default(''), tags: tagsInput }).strict();
export const networkCreate = z
  .object({
    name: nameSchema,
    wireId: z.string(),
    projectId: z.string().nullable().default(null),
    cidr: cidrSchema,
    gateway: ipv4.nullable().default(null),
    vlan: z.number().int().min(1).max(4094).nullable().default(null),
    dns: z.array(ipv4).max(4).default([]),
    ipStart: ipv4.optional(),
    ipEnd: ipv4.optional(),
    tags: tagsInput,
  })
  .strict();
export const hostUpdate = z
  .object({
    id: z.string(),
    name: nameSchema.optional(),
    zoneId: z.string().nullable().optional(),
    enabled: z.boolean().optional(),
    maintenance: z.boolean().optional(),
    cpuOvercommit: z.number().min(0.1).max(64).optional(),
    memoryOvercommit: z.number().min(0.1).max(8).optional(),
    storageOvercommit: z.number().min(0.1).max(16).optional(),
  })
  .strict();
export const keypairCreate = z.object({ name: nameSchema, publicKey: z.string().min(16).max(16_384).regex(/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, 'not an OpenSSH public key'), projectId: z.string().nullable().default(null), tags: tagsInput }).strict();
export const securityGroupCreate = z.object({ name: nameSchema, projectId: z.string().nullable().default(null), description: z.string().max(1024).default(''), tags: tagsInput }).strict();
export const securityGroupRuleInput = z
  .object({
    groupId: z.string(),
    direction: z.enum(['in', 'out']),
    protocol: z.enum(['any', 'tcp', 'udp', 'icmp']),
    ports: z.string().regex(/^(any|\d{1,5}(-\d{1,5})?)$/, 'ports are "any", a port, or a range like 8000-8080').default('any'),
    cidr: cidrSchema.default('0.0.0.0/0'),
    action: z.enum(['allow', 'deny']).default('allow'),
    priority: z.number().int().min(1).max(1000).default(100),
    description: z.string().max(256).default(''),
  })
  .strict();
