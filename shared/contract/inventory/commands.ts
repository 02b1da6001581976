import { z } from 'zod';
import { command, type CommandDef } from '../define';
import { idSchema, ok } from '../common';
import { listQuerySchema, listResultSchema } from '../../list';
import { taskRefSchema } from '../tasks';
import {
  RESOURCE_KINDS,
  hostUpdate,
  ipv4Schema,
  keypairCreate,
  networkCreate,
  projectCreate,
  projectUpdate,
  securityGroupCreate,
  securityGroupRuleInput,
  wireCreate,
  zoneCreate,
  usageSchema,
  type ResourceKind,
} from './kinds';

type KindCommands<K extends string, S extends z.ZodType> = {
  [P in `${K}.list`]: CommandDef<typeof listQuerySchema, ReturnType<typeof listResultSchema<S>>>;
} & { [P in `${K}.get`]: CommandDef<z.ZodObject<{ id: typeof idSchema }>, S> };

function kindCommands<K extends ResourceKind>(kind: K): KindCommands<K, (typeof RESOURCE_KINDS)[K]> {
  const item = RESOURCE_KINDS[kind];
  return {
    [`${kind}.list`]: command({
      summary: `${kind}: paged, sorted, filtered (field:value, tag:key=value), free-text search`,
      input: listQuerySchema,
      output: listResultSchema(item),
      mutating: false,
      list: kind,
    }),
    [`${kind}.get`]: command({ summary: `One of ${kind}`, input: z.object({ id: idSchema }).strict(), output: item, mutating: false }),
  } as KindCommands<K, (typeof RESOURCE_KINDS)[K]>;
}

const byId = z.object({ id: idSchema }).strict();
const resourceRef = z.object({ kind: z.enum(Object.keys(RESOURCE_KINDS) as [ResourceKind, ...ResourceKind[]]), id: idSchema });

/** stop is an ACPI shutdown; forceStop pulls the plug; reset is a hard reset. */
export const GUEST_ACTIONS = ['start', 'stop', 'forceStop', 'reboot', 'reset', 'suspend', 'resume', 'delete'] as const;
export type GuestAction = (typeof GUEST_ACTIONS)[number];
export const BULK_ACTIONS = [...GUEST_ACTIONS, 'tag', 'move'] as const;

export const ipAllocationSchema = z.object({
  networkId: z.string(),
  ip: z.string(),
  kind: z.enum(['allocated', 'reserved']),
  ownerKind: z.string().nullable(),
  ownerId: z.string().nullable(),
  projectId: z.string().nullable(),
  note: z.string(),
  createdAt: z.string(),
});

export const inventorySummarySchema = z.object({
  counts: z.record(z.string(), z.number()),
  guestsByStatus: z.record(z.string(), z.number()),
  hostsByStatus: z.record(z.string(), z.number()),
  capacity: z.object({
    cpuCores: z.number(),
    cpuAllocated: z.number(),
    memoryMb: z.number(),
    memoryAllocatedMb: z.number(),
    storageGb: z.number(),
    storageAllocatedGb: z.number(),
  }),
  byZone: z.array(z.object({ zoneId: z.string().nullable(), zone: z.string().nullable(), hosts: z.number(), guests: z.number(), cpuCores: z.number(), cpuAllocated: z.number(), memoryMb: z.number(), memoryAllocatedMb: z.number() })),
  byProject: z.array(z.object({ projectId: z.string().nullable(), project: z.string().nullable(), guests: z.number(), vcpu: z.number(), memoryMb: z.number() })),
  stale: z.number(),
  oldestSyncAt: z.string().nullable(),
});

export const inventory = {
  ...kindCommands('projects'),
  ...kindCommands('cloudAccounts'),
  ...kindCommands('regions'),
  ...kindCommands('zones'),
  ...kindCommands('hosts'),
  ...kindCommands('storages'),
  ...kindCommands('wires'),
  ...kindCommands('networks'),
  ...kindCommands('guests'),
  ...kindCommands('disks'),
  ...kindCommands('snapshots'),
  ...kindCommands('images'),
  ...kindCommands('securityGroups'),
  ...kindCommands('eips'),
  ...kindCommands('keypairs'),

  'inventory.summary': command({ summary: 'Dashboard roll-ups: counts, status, capacity by zone and project, staleness', input: z.object({}).strict(), output: inventorySummarySchema, mutating: false }),

  'projects.create': command({ summary: 'Create a project with optional quotas', input: projectCreate, output: RESOURCE_KINDS.projects, mutating: true }),
  'projects.update': command({ summary: 'Rename a project or change its quotas', input: projectUpdate, output: RESOURCE_KINDS.projects, mutating: true }),
  'projects.delete': command({ summary: 'Delete an empty project', input: byId, output: ok, mutating: true }),
  'projects.usage': command({ summary: 'Committed and pending usage of a project against its quota', input: byId, output: z.object({ usage: usageSchema, pending: usageSchema }), mutating: false }),

  'zones.create': command({ summary: 'Create a zone', input: zoneCreate, output: RESOURCE_KINDS.zones, mutating: true }),
  'zones.delete': command({ summary: 'Delete a zone with nothing in it', input: byId, output: ok, mutating: true }),
  'wires.create': command({ summary: 'Create a wire (an L2 domain) in a zone', input: wireCreate, output: RESOURCE_KINDS.wires, mutating: true }),
  'wires.delete': command({ summary: 'Delete a wire with no networks', input: byId, output: ok, mutating: true }),
  'networks.create': command({ summary: 'Create an IPv4 network on a wire; its CIDR may not overlap another on the same wire', input: networkCreate, output: RESOURCE_KINDS.networks, mutating: true }),
  'networks.delete': command({ summary: 'Delete a network with no allocated addresses', input: byId, output: ok, mutating: true }),
  'networks.allocateIp': command({
    summary: 'Allocate an address (the given one, or the lowest free) to an owner',
    input: z.object({ networkId: idSchema, ip: ipv4Schema.optional(), ownerKind: z.string().max(32).optional(), ownerId: z.string().max(64).optional(), projectId: idSchema.optional(), note: z.string().max(256).default('') }).strict(),
    output: ipAllocationSchema,
    mutating: true,
  }),
  'networks.reserveIp': command({
    summary: 'Reserve an address so nothing is allocated it',
    input: z.object({ networkId: idSchema, ip: ipv4Schema, note: z.string().max(256).default('') }).strict(),
    output: ipAllocationSchema,
    mutating: true,
  }),
  'networks.releaseIp': command({ summary: 'Release an allocated or reserved address', input: z.object({ networkId: idSchema, ip: ipv4Schema }).strict(), output: ok, mutating: true }),
  'networks.ips': command({
    summary: 'Allocated and reserved addresses of a network',
    input: z.object({ networkId: idSchema, limit: z.number().int().min(1).max(1000).default(256), offset: z.number().int().min(0).default(0) }).strict(),
    output: listResultSchema(ipAllocationSchema),
    mutating: false,
  }),

  'hosts.update': command({ summary: 'Enable/disable, maintenance, overcommit ratios, zone, name', input: hostUpdate, output: RESOURCE_KINDS.hosts, mutating: true }),
  'hosts.delete': command({ summary: 'Remove a host with no guests from the inventory', input: byId, output: ok, mutating: true }),

  'keypairs.create': command({ summary: 'Import an SSH public key', input: keypairCreate, output: RESOURCE_KINDS.keypairs, mutating: true }),
  'keypairs.delete': command({ summary: 'Delete a key pair', input: byId, output: ok, mutating: true }),
  'securityGroups.create': command({ summary: 'Create a security group', input: securityGroupCreate, output: RESOURCE_KINDS.securityGroups, mutating: true }),
  'securityGroups.delete': command({ summary: 'Delete a security group', input: byId, output: ok, mutating: true }),
  'securityGroups.addRule': command({ summary: 'Add a rule to a security group', input: securityGroupRuleInput, output: RESOURCE_KINDS.securityGroups, mutating: true }),
  'securityGroups.removeRule': command({ summary: 'Remove a rule', input: z.object({ groupId: idSchema, ruleId: idSchema }).strict(), output: RESOURCE_KINDS.securityGroups, mutating: true }),

  'tags.set': command({
    summary: 'Set user tags on resources (key=value); existing keys are replaced',
    input: z.object({ resources: z.array(resourceRef).min(1).max(10_000), tags: z.record(z.string().min(1).max(128).regex(/^[^=,\s][^=,]*$/, 'a tag key has no "=" or ","'), z.string().max(256)) }).strict(),
    output: z.object({ changed: z.number().int() }),
    mutating: true,
  }),
  'tags.remove': command({
    summary: 'Remove user tags by key',
    input: z.object({ resources: z.array(resourceRef).min(1).max(10_000), keys: z.array(z.string().min(1).max(128)).min(1) }).strict(),
    output: z.object({ changed: z.number().int() }),
    mutating: true,
  }),
  'tags.keys': command({ summary: 'Tag keys in use, with counts', input: z.object({ kind: z.string().optional() }).strict(), output: z.object({ keys: z.array(z.object({ key: z.string(), count: z.number() })) }), mutating: false }),

  'guests.action': command({
    summary: 'Start, stop, reboot, suspend, resume or delete one guest, as a task; refused when its status does not allow it',
    input: z.object({ id: idSchema, action: z.enum(GUEST_ACTIONS) }).strict(),
    output: taskRefSchema,
    mutating: true,
  }),
  'guests.bulk': command({
    summary: 'One action over many guests: a parent task with a child per guest',
    input: z
      .object({
        ids: z.array(idSchema).min(1).max(10_000),
        action: z.enum(BULK_ACTIONS),
        tags: z.record(z.string(), z.string()).optional(),
        projectId: idSchema.optional(),
      })
      .strict()
      .refine((v) => v.action !== 'tag' || (v.tags && Object.keys(v.tags).length > 0), { message: 'tag needs tags', path: ['tags'] })
      .refine((v) => v.action !== 'move' || v.projectId, { message: 'move needs a projectId', path: ['projectId'] }),
    output: taskRefSchema,
    mutating: true,
  }),
  'guests.move': command({ summary: 'Move guests (and their disks and addresses) to another project', input: z.object({ ids: z.array(idSchema).min(1).max(10_000), projectId: idSchema }).strict(), output: z.object({ moved: z.number().int() }), mutating: true }),
};

export const inventoryExport = {
  'inventory.export': command({
    summary: 'Export every row of a list (with its sort, search and filters) to a CSV file, as a task; works offline on the last-known inventory',
    input: z
      .object({
        kind: z.enum(Object.keys(RESOURCE_KINDS) as [ResourceKind, ...ResourceKind[]]),
        query: z.object({ sort: z.string().regex(/^-?[a-z_][a-z0-9_]*$/i).optional(), q: z.string().max(256).optional(), filter: z.array(z.string().max(512)).max(32).default([]) }).strict().default({ filter: [] }),
        /** Excel opens UTF-8 CSV correctly only with a byte-order mark. */
        bom: z.boolean().default(false),
      })
      .strict(),
    output: taskRefSchema,
    mutating: true,
  }),
};
