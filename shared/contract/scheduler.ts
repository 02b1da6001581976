import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime, ok } from './common';

/**
 * The scheduler: the one decider of where a guest goes. A request (shape, disks, networks, image, project, tag rules,
 * instance group, count) is checked against every host by small named filters; the hosts left are scored by named,
 * weighted scores (spread or binpack) and a whole batch is placed in one pass. `scheduler.place` reserves what it placed
 * as pending usage (per host, storage and network) until the creating task ends or the reservation is released, so
 * concurrent requests never double-book a host. `scheduler.forecast` is the same run without reserving: every host
 * with its score, or every filter that rejected it, with the numbers.
 */

export const SCHED_STRATEGIES = ['spread', 'binpack'] as const;
export type SchedStrategy = (typeof SCHED_STRATEGIES)[number];

/** Filter names, as they appear in rejections (`filter`) and in `byFilter`. */
export const SCHED_FILTERS = ['host', 'zone', 'status', 'hypervisor', 'cpu', 'memory', 'storage', 'network', 'image', 'tags', 'group', 'quota'] as const;
export type SchedFilter = (typeof SCHED_FILTERS)[number];

/** Weight names. Each scores a host 0–1; a host's score is their weighted mean × 100. */
export const SCHED_WEIGHTS = ['cpu', 'memory', 'storage', 'creating', 'group', 'tags', 'preferred', 'known'] as const;
export type SchedWeight = (typeof SCHED_WEIGHTS)[number];

export const TAG_STRATEGIES = ['require', 'exclude', 'prefer', 'avoid'] as const;
export type TagStrategy = (typeof TAG_STRATEGIES)[number];

const tagKey = z.string().min(1).max(128).regex(/^[^=,\s][^=,]*$/, 'a tag key has no "=" or ","');

/** A tag rule on hosts, storages or networks. Without a value, any value of the key matches. */
export const tagRuleSchema = z
  .object({
    on: z.enum(['host', 'storage', 'network']).default('host'),
    key: tagKey,
    value: z.string().max(256).optional(),
    strategy: z.enum(TAG_STRATEGIES),
  })
  .strict();
export type TagRule = z.infer<typeof tagRuleSchema>;

export const schedDiskSchema = z
  .object({
    sizeGb: z.number().min(0).max(65_536),
    /** local, lvm, nfs, rbd… (any storage of that type on the host, or shared in its zone). */
    storageType: z.string().min(1).max(32).optional(),
    /** A storage by id or by name (a KVM storage pool's name, e.g. `default`). */
    storage: z.string().min(1).max(128).optional(),
  })
  .strict();

export const schedNicSchema = z
  .object({
    /** A Skydeck network; omitted: any network the host's wires carry (honouring network tag rules) with a free address. */
    networkId: idSchema.optional(),
  })
  .strict();

export const schedWeightsSchema = z.object(Object.fromEntries(SCHED_WEIGHTS.map((w) => [w, z.number().min(0).max(100).optional()])) as Record<SchedWeight, z.ZodOptional<z.ZodNumber>>).strict();

export const SCHED_MAX_COUNT = 10_000;

export const schedRequestSchema = z
  .object({
    vcpu: z.number().int().min(1).max(512),
    memoryMb: z.number().int().min(64, 'at least 64 MiB').max(4 * 1024 * 1024),
    disks: z.array(schedDiskSchema).max(16).default([]),
    networks: z.array(schedNicSchema).max(8).default([]),
    hypervisor: z.enum(['kvm', 'esxi', 'baremetal']).default('kvm'),
    /** Only hosts of this provider (`kvm` for hosts Skydeck reaches over SSH). */
    provider: z.string().min(1).max(32).optional(),
    /** Only hosts added over SSH with Skydeck's agent (a host link), as guest creation on KVM needs. */
    linkedOnly: z.boolean().default(false),
    imageId: idSchema.optional(),
    projectId: idSchema.nullable().default(null),
    /** Guests in the batch, placed in one pass. */
    count: z.number({ message: 'count is a number' }).int('count is a whole number').min(1, 'count is 1–10,000').max(SCHED_MAX_COUNT, 'count is 1–10,000').default(1),
    /** Only this zone / only this host (Cloudpods' prefer_zone / prefer_host). */
    zoneId: idSchema.optional(),
    hostId: idSchema.optional(),
    /** Soft: score hosts of this zone / this host higher. */
    preferZoneId: idSchema.optional(),
    preferHostId: idSchema.optional(),
    tags: z.array(tagRuleSchema).max(32).default([]),
    instanceGroupId: idSchema.optional(),
    /** Default: the scheduler setting (spread). */
    strategy: z.enum(SCHED_STRATEGIES).optional(),
    /** Overrides of the strategy's default weights (0 turns a weight off). */
    weights: schedWeightsSchema.optional(),
  })
  .strict();
export type SchedRequestInput = z.input<typeof schedRequestSchema>;
export type SchedRequest = z.output<typeof schedRequestSchema>;

export const rejectionSchema = z.object({
  filter: z.enum(SCHED_FILTERS),
  message: z.string(),
  numbers: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
  /** Request-level problems (blockers): the input field at fault, e.g. `networks.0.networkId`. */
  path: z.string().optional(),
});
export type Rejection = z.infer<typeof rejectionSchema>;

export const hostForecastSchema = z.object({
  hostId: z.string(),
  name: z.string(),
  zoneId: z.string().nullable(),
  /** A score when the host passed every filter (before this batch was placed), else null. */
  score: z.number().nullable(),
  /** Each weight's 0–1 score. */
  scores: z.record(z.string(), z.number()).nullable(),
  rejections: z.array(rejectionSchema),
  /** Things the scheduler could not check (no wires or storages recorded for the host): not rejected, scored lower. */
  notes: z.array(z.string()),
  /** Guests of this batch placed on the host. */
  placed: z.number().int(),
});
export type HostForecast = z.infer<typeof hostForecastSchema>;

export const placementSchema = z.object({
  index: z.number().int(),
  hostId: z.string(),
  hostName: z.string(),
  /** The storage id chosen for each requested disk (null where the host has no storages recorded). */
  storages: z.array(z.string().nullable()),
  /** The network id chosen for each requested NIC (null where it could not be decided). */
  networks: z.array(z.string().nullable()),
  score: z.number(),
});
export type Placement = z.infer<typeof placementSchema>;

export const forecastSchema = z.object({
  count: z.number().int(),
  /** How many guests of the batch fit. */
  fits: z.number().int(),
  strategy: z.enum(SCHED_STRATEGIES),
  weights: z.record(z.string(), z.number()),
  totalHosts: z.number().int(),
  candidates: z.number().int(),
  /** Hosts rejected by each filter (a host can count under several). */
  byFilter: z.record(z.string(), z.number().int()),
  /** What stops the whole request, whatever the hosts (quota, unknown references, conflicting rules). */
  blockers: z.array(rejectionSchema),
  /** Candidates by score (best first), then rejected hosts. May be cut short (see `truncated`). */
  hosts: z.array(hostForecastSchema),
  truncated: z.boolean(),
  placements: z.array(placementSchema),
  elapsedMs: z.number(),
});
export type Forecast = z.infer<typeof forecastSchema>;

export const reservationSchema = z.object({
  id: z.string(),
  taskId: z.string().nullable(),
  projectId: z.string().nullable(),
  instanceGroupId: z.string().nullable(),
  count: z.number().int(),
  createdBy: z.string(),
  createdAt: isoTime,
  /** Reservations not bound to a task lapse at this time; null once bound. */
  expiresAt: isoTime.nullable(),
  /** Per host: guests still pending (not yet created on it), vCPUs, memory and storage. */
  hosts: z.array(z.object({ hostId: z.string(), guests: z.number().int(), vcpu: z.number().int(), memoryMb: z.number().int(), storageGb: z.number() })),
});
export type Reservation = z.infer<typeof reservationSchema>;

export const instanceGroupSchema = z.object({
  id: z.string(),
  name: z.string(),
  projectId: z.string().nullable(),
  policy: z.enum(['anti-affinity', 'affinity']),
  /** anti-affinity: at most this many members on one host. */
  perHostLimit: z.number().int(),
  /** true: a filter (hosts over the limit are rejected); false: a weight only. */
  force: z.boolean(),
  description: z.string(),
  members: z.number().int(),
  createdAt: isoTime,
});
export type InstanceGroup = z.infer<typeof instanceGroupSchema>;

const nameSchema = z.string().trim().min(1, 'a name is required').max(128);

export const scheduler = {
  'scheduler.forecast': command({
    summary: 'Dry run: where a request (or a batch) would go, every host with its score or the filters that rejected it with the numbers; reserves nothing',
    input: schedRequestSchema.extend({ limit: z.number().int().min(1).max(100_000).optional() }).strict(),
    output: forecastSchema,
    mutating: false,
  }),
  'scheduler.place': command({
    summary: 'Place a request (or a batch of count guests) and reserve it as pending usage until released or the bound task ends',
    input: schedRequestSchema
      .extend({
        /** Unbound reservations lapse after this long (default 600 s). */
        ttlSeconds: z.number().int().min(10).max(86_400).default(600),
        /** Answer the forecast of every host too (default: placements only). */
        forecast: z.boolean().default(false),
      })
      .strict(),
    output: z.object({ reservationId: z.string(), placements: z.array(placementSchema), expiresAt: isoTime, forecast: forecastSchema.nullable() }),
    mutating: true,
  }),
  'scheduler.release': command({
    summary: 'Release a reservation (or every reservation of a task) now',
    input: z
      .object({ reservationId: z.string().min(1).max(64).optional(), taskId: z.string().min(1).max(64).optional() })
      .strict()
      .refine((v) => !!v.reservationId !== !!v.taskId, { message: 'give a reservation id or a task id', path: ['reservationId'] }),
    output: z.object({ released: z.number().int() }),
    mutating: true,
  }),
  'scheduler.reservations': command({
    summary: 'Reservations still pending, newest first',
    input: z.object({ hostId: idSchema.optional(), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    output: z.object({ items: z.array(reservationSchema) }),
    mutating: false,
  }),
  'instanceGroups.list': command({ summary: 'Instance groups (affinity and anti-affinity) with their member counts', input: z.object({ projectId: idSchema.optional() }).strict(), output: z.object({ items: z.array(instanceGroupSchema) }), mutating: false }),
  'instanceGroups.create': command({
    summary: 'Create an instance group: anti-affinity (at most perHostLimit members per host) or affinity (members together on one host)',
    input: z
      .object({
        name: nameSchema,
        projectId: idSchema.nullable().default(null),
        policy: z.enum(['anti-affinity', 'affinity']).default('anti-affinity'),
        perHostLimit: z.number().int().min(1).max(1000).default(1),
        force: z.boolean().default(true),
        description: z.string().max(1024).default(''),
      })
      .strict(),
    output: instanceGroupSchema,
    mutating: true,
  }),
  'instanceGroups.delete': command({ summary: 'Delete an instance group (its guests stay)', input: z.object({ id: idSchema }).strict(), output: ok, mutating: true }),
  'instanceGroups.addGuests': command({
    summary: 'Add existing guests to an instance group',
    input: z.object({ id: idSchema, guestIds: z.array(idSchema).min(1).max(1000) }).strict(),
    output: instanceGroupSchema,
    mutating: true,
  }),
  'instanceGroups.removeGuests': command({
    summary: 'Remove guests from an instance group',
    input: z.object({ id: idSchema, guestIds: z.array(idSchema).min(1).max(1000) }).strict(),
    output: instanceGroupSchema,
    mutating: true,
  }),
};
