import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime, ok } from './common';
import { taskRefSchema } from './tasks';
import { RESOURCE_KINDS } from './inventory/kinds';

/**
 * Public cloud accounts (AWS, Alibaba Cloud, Tencent Cloud, Azure): adding one with its credentials (kept only in the
 * vault: every credential secret is a secretField, never answered back, logged or audited), validating, picking
 * regions, the periodic sync and sync-now (tasks), and the operations the cloud's driver offers. The UI asks
 * `clouds.providers` what each cloud can do instead of branching on the provider.
 */
export const CLOUD_PROVIDERS = ['aws', 'aliyun', 'tencent', 'azure'] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];

/** What a cloud driver can do beyond listing: each is a command below (or a guest action in the Guests list). */
export const CLOUD_OPERATIONS = [
  'start',
  'stop',
  'reboot',
  'delete',
  'resize',
  'create',
  'attachDisk',
  'detachDisk',
  'createSnapshot',
  'deleteSnapshot',
  'associateEip',
  'dissociateEip',
  'securityGroupRules',
  'console',
  /** The provider's monitoring API feeds the instances' charts (ICloudMetrics). */
  'metrics',
  /** The provider's price API feeds the cost report (ICloudPrices). */
  'prices',
] as const;
export type CloudOperation = (typeof CLOUD_OPERATIONS)[number];

/** The resource kinds a cloud's sync lists, in sync order. */
export const CLOUD_SYNC_KINDS = ['regions', 'zones', 'vpcs', 'subnets', 'securityGroups', 'instances', 'disks', 'snapshots', 'images', 'eips', 'keypairs'] as const;
export type CloudSyncKind = (typeof CLOUD_SYNC_KINDS)[number];

export const cloudCapabilitiesSchema = z.object({
  sync: z.array(z.enum(CLOUD_SYNC_KINDS)),
  operations: z.array(z.enum(CLOUD_OPERATIONS)),
});
export type CloudCapabilities = z.infer<typeof cloudCapabilitiesSchema>;

const key = z.string().trim().min(1, 'required').max(256);
const secret = z.string().min(1, 'required').max(4096);
const uuid = z.string().trim().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a GUID such as 00000000-0000-0000-0000-000000000000');

export const cloudCredentialsSchema = z.discriminatedUnion('provider', [
  z.object({ provider: z.literal('aws'), accessKeyId: key.regex(/^[A-Z0-9]{16,128}$/, 'an access key id is 16–128 upper-case letters and digits (AKIA…)'), secretAccessKey: secret }).strict(),
  z.object({ provider: z.literal('aliyun'), accessKeyId: key, accessKeySecret: secret }).strict(),
  z
    .object({
      provider: z.literal('tencent'),
      secretId: key,
      secretKey: secret,
      /** The account's billing currency: CNY for a China site account (the default), USD for an international one. The price API answers none. */
      currency: z.enum(['CNY', 'USD']).optional(),
    })
    .strict(),
  z.object({ provider: z.literal('azure'), tenantId: uuid, clientId: uuid, clientSecret: secret, subscriptionId: uuid }).strict(),
]);
export type CloudCredentialsInput = z.infer<typeof cloudCredentialsSchema>;
/** Every secret a credential holds (masked in the audit log and in logs). */
export const CLOUD_SECRET_FIELDS = ['credentials.secretAccessKey', 'credentials.accessKeySecret', 'credentials.secretKey', 'credentials.clientSecret'] as const;

const endpointUrl = z
  .string()
  .trim()
  .max(2048)
  .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL such as https://ec2.example.com')
  .nullable();
export const cloudEndpointSchema = endpointUrl.default(null);

export const regionStatusSchema = z.object({ ok: z.boolean(), error: z.string().nullable(), code: z.string().nullable(), at: isoTime });

/**
 * Cloud tags mapped to Skydeck projects (main/clouds/projects.ts): the value of tag `tagKey` names a project
 * (case-insensitive) unless `overrides` maps that value to a project id; otherwise `defaultProjectId`. Applied at every
 * sync to the account's guests and disks; a project a user set (a move) is never changed by it.
 */
export const cloudProjectMappingSchema = z
  .object({
    tagKey: z.string().trim().min(1).max(128).nullable().default(null),
    defaultProjectId: idSchema.nullable().default(null),
    overrides: z.record(z.string().trim().min(1).max(256), idSchema).default({}),
  })
  .strict();
export type CloudProjectMapping = z.infer<typeof cloudProjectMappingSchema>;

export const cloudAccountDetailSchema = z.object({
  account: RESOURCE_KINDS.cloudAccounts,
  provider: z.enum(CLOUD_PROVIDERS),
  endpoint: z.string().nullable(),
  /** The non-secret part of the credentials, for recognising them (e.g. the access key id). */
  credentialHint: z.string().nullable(),
  regionStatus: z.record(z.string(), regionStatusSchema),
  guests: z.number().int(),
  syncing: z.boolean(),
  nextSyncAt: isoTime.nullable(),
  /** The account's tag → project mapping (null: none). */
  projectMapping: cloudProjectMappingSchema.nullable(),
});
export type CloudAccountDetail = z.infer<typeof cloudAccountDetailSchema>;

const byId = z.object({ id: idSchema }).strict();
const intervalSchema = z.number().int().min(1, 'at least every minute').max(7 * 24 * 60, 'at most once a week');
const regionNamesSchema = z.array(z.string().trim().min(1).max(64).regex(/^[a-z0-9-]+$/i, 'a region name such as us-east-1')).max(64);
const cloudId = z.string().trim().min(1).max(256).regex(/^[A-Za-z0-9_.:/-]+$/, 'a cloud resource id');

export const clouds = {
  'clouds.providers': command({
    summary: 'The clouds Skydeck has drivers for: what each can sync and do, and the credential fields it takes',
    input: z.object({}).strict(),
    output: z.object({ items: z.array(z.object({ provider: z.enum(CLOUD_PROVIDERS), capabilities: cloudCapabilitiesSchema, credentialFields: z.array(z.object({ key: z.string(), secret: z.boolean() })) })) }),
    mutating: false,
  }),
  'clouds.validate': command({
    summary: 'Check credentials against the cloud (nothing is stored) and answer the regions they can see',
    input: z.object({ credentials: cloudCredentialsSchema, endpoint: cloudEndpointSchema }).strict(),
    output: z.object({ account: z.string().nullable(), regions: z.array(z.string()) }),
    mutating: false,
    secretFields: CLOUD_SECRET_FIELDS,
  }),
  'clouds.add': command({
    summary: 'Add a cloud account: validate the credentials, keep them in the vault, then a first sync (a task)',
    input: z
      .object({
        name: z.string().trim().min(1, 'a name is required').max(128),
        credentials: cloudCredentialsSchema,
        endpoint: cloudEndpointSchema,
        /** Regions to sync (default: every region the credentials can see). */
        regions: regionNamesSchema.optional(),
        syncIntervalMinutes: intervalSchema.default(15),
        /** The tag → project mapping, applied from the first sync on (as clouds.update sets it later). */
        projectMapping: cloudProjectMappingSchema.optional(),
      })
      .strict(),
    output: z.object({ account: cloudAccountDetailSchema, taskId: z.string() }),
    mutating: true,
    secretFields: CLOUD_SECRET_FIELDS,
  }),
  'clouds.accounts': command({ summary: 'Cloud accounts with their endpoint, per-region sync status and health', input: z.object({}).strict(), output: z.object({ items: z.array(cloudAccountDetailSchema) }), mutating: false }),
  'clouds.account': command({ summary: 'One cloud account with its endpoint, per-region sync status and health', input: byId, output: cloudAccountDetailSchema, mutating: false }),
  'clouds.regions': command({
    summary: 'Regions the account can see now (asked of the cloud) and which are picked',
    input: byId,
    output: z.object({ available: z.array(z.string()), picked: z.array(z.string()) }),
    mutating: false,
  }),
  'clouds.update': command({
    summary: 'Rename a cloud account, change its regions, sync interval, endpoint or tag → project mapping',
    input: z
      .object({
        id: idSchema,
        name: z.string().trim().min(1).max(128).optional(),
        regions: regionNamesSchema.optional(),
        syncIntervalMinutes: intervalSchema.optional(),
        endpoint: endpointUrl.optional(),
        /** null removes the mapping (the projects it set are unset; projects users set stay). */
        projectMapping: cloudProjectMappingSchema.nullable().optional(),
      })
      .strict(),
    output: cloudAccountDetailSchema,
    mutating: true,
  }),
  'clouds.setCredentials': command({
    summary: 'Replace the credentials of a cloud account (validated first)',
    input: z.object({ id: idSchema, credentials: cloudCredentialsSchema }).strict(),
    output: ok,
    mutating: true,
    secretFields: CLOUD_SECRET_FIELDS,
  }),
  'clouds.syncNow': command({ summary: 'Sync the account now, as a task', input: byId, output: taskRefSchema, mutating: true }),
  'clouds.remove': command({ summary: 'Remove a cloud account: its credentials and everything it listed leave Skydeck (nothing changes in the cloud)', input: byId, output: ok, mutating: true }),

  'clouds.resizeGuest': command({ summary: "Change a cloud guest's instance type (stopped first where the cloud requires it), as a task", input: z.object({ id: idSchema, instanceType: z.string().trim().min(1).max(64) }).strict(), output: taskRefSchema, mutating: true }),
  'clouds.createGuest': command({
    summary: 'Create an instance in a cloud account: image, type, subnet, security groups, key pair, disk; as a task',
    input: z
      .object({
        accountId: idSchema,
        region: z.string().trim().min(1).max(64),
        name: z.string().trim().min(1).max(128),
        imageId: cloudId,
        instanceType: z.string().trim().min(1).max(64),
        subnetId: cloudId.optional(),
        securityGroupIds: z.array(cloudId).max(16).optional(),
        keyName: z.string().trim().max(255).optional(),
        diskGb: z.number().int().min(1).max(65_536).optional(),
      })
      .strict(),
    output: taskRefSchema,
    mutating: true,
  }),
  'clouds.attachDisk': command({ summary: 'Attach a cloud disk to a cloud guest, as a task', input: z.object({ diskId: idSchema, guestId: idSchema, device: z.string().trim().min(1).max(64) }).strict(), output: taskRefSchema, mutating: true }),
  'clouds.detachDisk': command({ summary: 'Detach a cloud disk from its guest, as a task', input: z.object({ diskId: idSchema }).strict(), output: taskRefSchema, mutating: true }),
  'clouds.createSnapshot': command({ summary: 'Snapshot a cloud disk, as a task', input: z.object({ diskId: idSchema, name: z.string().trim().min(1).max(255) }).strict(), output: taskRefSchema, mutating: true }),
  'clouds.deleteSnapshot': command({ summary: 'Delete a cloud snapshot, as a task', input: byId, output: taskRefSchema, mutating: true }),
  'clouds.associateEip': command({ summary: 'Associate an EIP with a cloud guest, as a task', input: z.object({ eipId: idSchema, guestId: idSchema }).strict(), output: taskRefSchema, mutating: true }),
  'clouds.dissociateEip': command({ summary: 'Dissociate an EIP from its guest, as a task', input: z.object({ eipId: idSchema }).strict(), output: taskRefSchema, mutating: true }),
  'clouds.addRule': command({
    summary: 'Allow inbound traffic in a cloud security group, as a task',
    input: z.object({ groupId: idSchema, protocol: z.enum(['tcp', 'udp', 'icmp', 'any']), fromPort: z.number().int().min(-1).max(65535), toPort: z.number().int().min(-1).max(65535), cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 CIDR such as 10.0.0.0/8'), description: z.string().max(255).optional() }).strict(),
    output: taskRefSchema,
    mutating: true,
  }),
  'clouds.removeRule': command({
    summary: 'Remove an inbound rule of a cloud security group, as a task',
    input: z.object({ groupId: idSchema, protocol: z.enum(['tcp', 'udp', 'icmp', 'any']), fromPort: z.number().int().min(-1).max(65535), toPort: z.number().int().min(-1).max(65535), cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'an IPv4 CIDR such as 10.0.0.0/8') }).strict(),
    output: taskRefSchema,
    mutating: true,
  }),
};
