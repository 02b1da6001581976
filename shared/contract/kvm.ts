import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime, ok } from './common';
import { taskRefSchema } from './tasks';
import { RESOURCE_KINDS } from './inventory/kinds';

/**
 * KVM hosts over SSH: adding a host (credentials, host-key trust on first use, agent bootstrap), its connection and
 * agent, and the guest operations that go through the agent to libvirt. Secrets in these inputs go to the vault and are
 * never answered back, logged or audited (secretFields).
 */

/** A DNS name, an IPv4 address or a bracket-less IPv6 address. */
export const hostAddressSchema = z
  .string()
  .trim()
  .min(1, 'an address is required')
  .max(253)
  .refine(
    (v) =>
      /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v) ||
      (/^[0-9a-fA-F:]+$/.test(v) && v.includes(':') && v.split('::').length <= 2) ||
      (/^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(v) && !/^[\d.]+$/.test(v)),
    'not a host name, IPv4 or IPv6 address',
  );
export const sshPortSchema = z.number({ message: 'a port is a number' }).int('a port is a whole number').min(1, 'ports are 1–65535').max(65535, 'ports are 1–65535');
export const sshUserSchema = z.string().trim().min(1, 'a user is required').max(64).regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'not a valid Unix user name');
/** OpenSSH's SHA256 fingerprint format: `SHA256:` + unpadded base64 of 32 bytes. */
export const fingerprintSchema = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a fingerprint looks like SHA256:… (43 base64 characters)');

export const sshAuthSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('password'), password: z.string().min(1, 'a password is required').max(1024) }).strict(),
  z
    .object({
      method: z.literal('key'),
      /** The private key itself (OpenSSH or PEM), or … */
      privateKey: z.string().max(65_536).optional(),
      /** … a path to it on this workstation, read once and stored in the vault. */
      privateKeyPath: z.string().max(4096).optional(),
      passphrase: z.string().max(1024).optional(),
    })
    .strict()
    .refine((v) => !!v.privateKey !== !!v.privateKeyPath, { message: 'give either the private key or a path to it', path: ['privateKey'] }),
  /** The workstation's ssh-agent ($SSH_AUTH_SOCK). */
  z.object({ method: z.literal('agent') }).strict(),
]);
export type SshAuthInput = z.infer<typeof sshAuthSchema>;

export const jumpHostSchema = z
  .object({
    address: hostAddressSchema,
    port: sshPortSchema.default(22),
    username: sshUserSchema,
    auth: sshAuthSchema,
    hostKeyFingerprint: fingerprintSchema,
  })
  .strict();

export const libvirtUriSchema = z
  .string()
  .trim()
  .regex(/^(qemu|test)(\+unix)?:\/\/[^\s]*$/, 'a libvirt URI such as qemu:///system or test:///default');

export const hostKeySchema = z.object({
  algorithm: z.string(),
  fingerprint: fingerprintSchema,
  /** new: never seen (confirm it); match: the one on record; changed: differs from the one on record (refused). */
  trust: z.enum(['new', 'match', 'changed']),
  expected: z.string().nullable(),
});

export const hostAddInput = z
  .object({
    name: z.string().trim().max(128).optional(),
    address: hostAddressSchema,
    port: sshPortSchema.default(22),
    username: sshUserSchema,
    auth: sshAuthSchema,
    jumpHost: jumpHostSchema.optional(),
    /** The fingerprint the admin confirmed (from hosts.probeKey); the connection is refused if the host shows another. */
    hostKeyFingerprint: fingerprintSchema,
    zoneId: idSchema.nullable().default(null),
    libvirtUri: libvirtUriSchema.default('qemu:///system'),
  })
  .strict();

export const hostConnectionSchema = z.object({
  hostId: z.string(),
  state: z.enum(['connecting', 'online', 'offline', 'unreachable']),
  reason: z.string().nullable(),
  /** The reason as a word to branch on: auth_failed, host_key_changed, host_key_unknown, refused, timeout, agent_down… */
  failure: z.string().nullable(),
  since: isoTime,
  address: z.string(),
  port: z.number().int(),
  username: z.string(),
  authMethod: z.enum(['password', 'key', 'agent']),
  jumpHost: z.string().nullable(),
  hostKeyFingerprint: z.string().nullable(),
  libvirtUri: z.string(),
  agentVersion: z.string().nullable(),
  agentSupervisor: z.string().nullable(),
  installDir: z.string().nullable(),
  /** Round trip of the last agent ping, ms. */
  latencyMs: z.number().nullable(),
  nextRetryAt: isoTime.nullable(),
});

/** What the agent reported about the host (shared/agent/protocol HostFacts), as stored at the last sync. */
export const hostFactsSchema = z.object({ hostId: z.string(), collectedAt: isoTime, facts: z.record(z.string(), z.unknown()) });

/** libvirt accepts few characters in names reliably across drivers; Skydeck takes a safe subset and says so. */
export const guestNameSchema = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(63, 'at most 63 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a guest name starts with a letter or digit and holds only letters, digits, . _ -');

export const macSchema = z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i, 'a MAC address looks like 52:54:00:12:34:56');

export const guestCreateInput = z
  .object({
    name: guestNameSchema,
    /** Omitted: the scheduler picks a KVM host. */
    hostId: idSchema.optional(),
    projectId: idSchema.nullable().default(null),
    vcpu: z.number().int().min(1).max(512),
    memoryMb: z.number().int().min(64, 'at least 64 MiB').max(4 * 1024 * 1024),
    /** Boot source: a volume in a storage pool of the host (copied or overlaid) or an ISO (installed onto a new disk). */
    source: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('image'), imageId: idSchema.optional(), volumePath: z.string().max(4096).optional(), cow: z.boolean().default(true) }).strict(),
      z.object({ kind: z.literal('iso'), isoPath: z.string().min(1).max(4096) }).strict(),
      /** Direct kernel boot (tiny appliances and tests). */
      z.object({ kind: z.literal('kernel'), kernel: z.string().min(1).max(4096), initrd: z.string().max(4096).optional(), cmdline: z.string().max(4096).default('') }).strict(),
      z.object({ kind: z.literal('none') }).strict(),
    ]),
    diskGb: z.number().min(0).max(65_536).default(10),
    storagePool: z.string().max(128).default('default'),
    diskFormat: z.enum(['qcow2', 'raw']).default('qcow2'),
    nic: z
      .object({
        networkId: idSchema.optional(),
        bridge: z.string().max(15).optional(),
        libvirtNetwork: z.string().max(128).optional(),
        ip: z.string().optional(),
        mac: macSchema.optional(),
        model: z.enum(['virtio', 'e1000', 'rtl8139']).default('virtio'),
      })
      .strict()
      .optional(),
    cloudInit: z
      .object({ userData: z.string().max(65_536).optional(), sshAuthorizedKey: z.string().max(16_384).optional(), password: z.string().max(256).optional(), hostname: z.string().max(63).optional() })
      .strict()
      .optional(),
    vnc: z.boolean().default(true),
    vncPassword: z.string().min(1).max(8, 'VNC passwords are at most 8 characters').optional(),
    start: z.boolean().default(true),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const guestSnapshotSchema = z.object({ name: z.string(), createdAt: z.string(), state: z.string(), current: z.boolean(), description: z.string().nullable(), parent: z.string().nullable() });
export const snapshotNameSchema = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a snapshot name holds only letters, digits, . _ -');

const byId = z.object({ id: idSchema }).strict();

export const kvm = {
  'hosts.probeKey': command({
    summary: 'Connect to an SSH server (through the jump host if given, or the stored one of hostId) and answer its host key and whether it is trusted, before any credentials are sent to it',
    input: z.object({ address: hostAddressSchema, port: sshPortSchema.default(22), hostId: idSchema.optional(), jumpHost: jumpHostSchema.optional() }).strict(),
    output: hostKeySchema,
    mutating: false,
    secretFields: ['jumpHost.auth.password', 'jumpHost.auth.privateKey', 'jumpHost.auth.passphrase'],
  }),
  'hosts.add': command({
    summary: 'Add a KVM host by SSH: credentials to the vault, then a bootstrap task (probe, upload runtime and agent, start, handshake, first sync)',
    input: hostAddInput,
    output: z.object({ host: RESOURCE_KINDS.hosts, taskId: z.string() }),
    mutating: true,
    secretFields: ['auth.password', 'auth.privateKey', 'auth.passphrase', 'jumpHost.auth.password', 'jumpHost.auth.privateKey', 'jumpHost.auth.passphrase'],
  }),
  'hosts.connection': command({ summary: "A KVM host's SSH link and agent: state, reason, fingerprint, agent version", input: byId, output: hostConnectionSchema, mutating: false }),
  'hosts.facts': command({ summary: 'Facts the agent reported at the last sync', input: byId, output: hostFactsSchema.nullable(), mutating: false }),
  'hosts.volumes': command({
    summary: "Volumes in one of a KVM host's storage pools (images and ISOs to boot from)",
    input: z.object({ id: idSchema, pool: z.string().min(1).max(128) }).strict(),
    output: z.object({ items: z.array(z.object({ pool: z.string(), name: z.string(), path: z.string(), format: z.string().nullable(), capacityBytes: z.number(), allocationBytes: z.number() })) }),
    mutating: false,
  }),
  'hosts.acceptHostKey': command({ summary: 'Trust a changed host key after the admin checked it, then reconnect', input: z.object({ id: idSchema, fingerprint: fingerprintSchema }).strict(), output: ok, mutating: true }),
  'hosts.setCredentials': command({
    summary: 'Replace the SSH credentials of a host and reconnect',
    input: z.object({ id: idSchema, username: sshUserSchema.optional(), auth: sshAuthSchema }).strict(),
    output: ok,
    mutating: true,
    secretFields: ['auth.password', 'auth.privateKey', 'auth.passphrase'],
  }),
  'hosts.reconnect': command({ summary: 'Reconnect now instead of waiting for the back-off', input: byId, output: ok, mutating: true }),
  'hosts.sync': command({ summary: 'Sync facts, storage, networks and domains from the host (adopts VMs, reconciles drift), as a task', input: byId, output: taskRefSchema, mutating: true }),
  'hosts.upgradeAgent': command({ summary: "Install this app's agent version on the host in place, as a task", input: byId, output: taskRefSchema, mutating: true }),
  'hosts.remove': command({
    summary: 'Remove a KVM host: stop and uninstall its agent (optional), forget its credentials and inventory; its VMs keep running',
    input: z.object({ id: idSchema, uninstallAgent: z.boolean().default(true) }).strict(),
    output: taskRefSchema,
    mutating: true,
  }),

  'guests.create': command({
    summary: 'Create a guest on a KVM host (the scheduler picks one when none is given): disk, NIC, cloud-init, define, start; as a task',
    input: guestCreateInput,
    output: z.object({ guest: RESOURCE_KINDS.guests, taskId: z.string() }),
    mutating: true,
    secretFields: ['cloudInit.password', 'vncPassword'],
  }),
  'guests.resize': command({ summary: 'Change vCPUs and memory (takes effect at the next boot where it cannot be applied live), as a task', input: z.object({ id: idSchema, vcpu: z.number().int().min(1).max(512).optional(), memoryMb: z.number().int().min(64).optional() }).strict(), output: taskRefSchema, mutating: true }),
  'guests.attachDisk': command({ summary: 'Create a new disk in a storage pool and attach it, as a task', input: z.object({ id: idSchema, sizeGb: z.number().min(0.001).max(65_536), format: z.enum(['qcow2', 'raw']).default('qcow2'), storagePool: z.string().max(128).default('default') }).strict(), output: taskRefSchema, mutating: true }),
  'guests.detachDisk': command({ summary: 'Detach a disk (and delete its volume when asked), as a task', input: z.object({ id: idSchema, diskId: idSchema, deleteVolume: z.boolean().default(false) }).strict(), output: taskRefSchema, mutating: true }),
  'guests.attachNic': command({ summary: 'Attach a NIC on a bridge or libvirt network, with an address from a Skydeck network, as a task', input: z.object({ id: idSchema, bridge: z.string().max(15).optional(), libvirtNetwork: z.string().max(128).optional(), networkId: idSchema.optional(), mac: macSchema.optional(), model: z.enum(['virtio', 'e1000', 'rtl8139']).default('virtio') }).strict(), output: taskRefSchema, mutating: true }),
  'guests.detachNic': command({ summary: 'Detach a NIC by MAC and release its address, as a task', input: z.object({ id: idSchema, mac: macSchema }).strict(), output: taskRefSchema, mutating: true }),
  'guests.insertIso': command({ summary: 'Insert an ISO (a path on the host) into the guest’s CD-ROM', input: z.object({ id: idSchema, path: z.string().min(1).max(4096) }).strict(), output: taskRefSchema, mutating: true }),
  'guests.ejectIso': command({ summary: 'Eject the CD-ROM', input: byId, output: taskRefSchema, mutating: true }),
  'guests.vnc': command({ summary: "Where the guest's VNC display is on its host (for consoles)", input: byId, output: z.object({ hostId: z.string(), port: z.number().int().nullable(), listen: z.string().nullable(), passwordSet: z.boolean() }), mutating: false }),
  'guests.media': command({
    summary: "The guest's CD-ROM drives and what is in them, as libvirt reports them now",
    input: byId,
    output: z.object({ drives: z.array(z.object({ target: z.string(), bus: z.string(), source: z.string().nullable() })) }),
    mutating: false,
  }),
  'guests.snapshots': command({ summary: "The guest's libvirt snapshots", input: byId, output: z.object({ items: z.array(guestSnapshotSchema) }), mutating: false }),
  'guests.snapshotCreate': command({ summary: 'Take a snapshot, as a task', input: z.object({ id: idSchema, name: snapshotNameSchema, description: z.string().max(1024).optional() }).strict(), output: taskRefSchema, mutating: true }),
  'guests.snapshotRevert': command({ summary: 'Revert to a snapshot, as a task', input: z.object({ id: idSchema, name: snapshotNameSchema }).strict(), output: taskRefSchema, mutating: true }),
  'guests.snapshotDelete': command({ summary: 'Delete a snapshot, as a task', input: z.object({ id: idSchema, name: snapshotNameSchema }).strict(), output: taskRefSchema, mutating: true }),
};
