/**
 * The wire protocol between Skydeck (main process) and its agent on a KVM host.
 *
 * Transport: the agent listens on a Unix socket in its install directory (`<dir>/agent.sock`); the app reaches it over
 * the host's one SSH connection with stream-local forwarding (`openssh_forwardOutStreamLocal`), or, where sshd refuses
 * that, through `<node> <dir>/current/agent.cjs connect` on an exec channel, which pipes its stdio to the socket.
 *
 * Framing: newline-delimited JSON-RPC 2.0, one message per line, UTF-8. Requests carry a numeric id; the agent answers
 * each with `result` or `error`. The app may send the notification `$/cancel {id}` to abort a running request (the
 * agent answers it with error code RPC_CANCELLED). The agent sends notifications `domain.event` when a domain changes.
 *
 * This file is types only (no runtime imports) so the agent bundle, main/ and the renderer can all read it.
 */

export const AGENT_PROTOCOL_VERSION = 1;

/** Where the agent lives on a host: root installs system-wide, other users under their home. */
export const AGENT_DIR_ROOT = '/opt/skydeck/agent';
export const AGENT_DIR_USER = '.local/share/skydeck-agent'; // relative to $HOME
/** Node.js major the agent needs; a host with an older (or no) node gets the runtime Skydeck carries. */
export const AGENT_NODE_MAJOR = 22;

export interface RpcRequest {
  jsonrpc: '2.0';
  id: number;
  method: string;
  params?: unknown;
}
export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}
export interface RpcResponse {
  jsonrpc: '2.0';
  id: number;
  result?: unknown;
  error?: RpcErrorBody;
}
export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
}

/** JSON-RPC error codes: the standard ones, then the agent's own. */
export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;
export const RPC_INTERNAL = -32603;
export const RPC_CANCELLED = -32800;
/** libvirt (virsh) refused the operation; `data.virsh` holds its error text. */
export const RPC_LIBVIRT = 1001;
/** The named domain, snapshot, pool or volume does not exist. */
export const RPC_NOT_FOUND = 1002;
/** The operation does not fit the domain's state (e.g. resume a running domain). */
export const RPC_STATE = 1003;
/** An operation on the host (qemu-img, file I/O) failed. */
export const RPC_HOST = 1004;
export const RPC_TIMEOUT = 1005;

/** libvirt's domain states as virsh prints them, normalised. */
export type DomainState = 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended' | 'unknown';

export interface DomainDisk {
  /** Guest device name: vda, sda, hdc… */
  target: string;
  device: 'disk' | 'cdrom' | 'floppy' | 'lun';
  bus: string;
  /** File path or volume; null for an empty CD-ROM. */
  source: string | null;
  format: string | null;
  /** Virtual size in bytes when the agent could read it (qemu-img info / domblkinfo), else null. */
  capacityBytes: number | null;
  readonly: boolean;
}

export interface DomainNic {
  mac: string;
  type: 'bridge' | 'network' | 'user' | 'direct' | 'other';
  /** Bridge name or libvirt network name. */
  source: string | null;
  model: string | null;
  /** Device name on the host (vnetN) when running. */
  target: string | null;
  /** Addresses the agent learned (domifaddr from lease or agent), may be empty. */
  addresses: string[];
}

export interface DomainGraphics {
  type: 'vnc' | 'spice';
  /** Port on the host; null while the domain is not running or autoport has not assigned one yet. */
  port: number | null;
  listen: string | null;
  autoport: boolean;
  passwordSet: boolean;
}

export interface DomainInfo {
  uuid: string;
  name: string;
  state: DomainState;
  /** libvirt's reason text for the state, e.g. "shutdown", "user", "booted". */
  reason: string | null;
  persistent: boolean;
  autostart: boolean;
  vcpu: number;
  maxVcpu: number;
  memoryMb: number;
  maxMemoryMb: number;
  /** Domain type: kvm or qemu (TCG). */
  virtType: string;
  arch: string | null;
  machine: string | null;
  osType: string | null;
  bootOrder: string[];
  disks: DomainDisk[];
  nics: DomainNic[];
  graphics: DomainGraphics[];
  /** Serial console: pty path when running. */
  serialPty: string | null;
  /** Free text from <description> and <metadata><skydeck:guest id=…/> when Skydeck created it. */
  description: string | null;
  skydeckGuestId: string | null;
  snapshotCount: number;
}

export interface StoragePoolInfo {
  name: string;
  type: string;
  path: string | null;
  active: boolean;
  capacityBytes: number;
  allocationBytes: number;
  availableBytes: number;
}

export interface VolumeInfo {
  pool: string;
  name: string;
  path: string;
  format: string | null;
  capacityBytes: number;
  allocationBytes: number;
}

export interface HostFacts {
  hostname: string;
  os: { id: string; name: string; version: string; prettyName: string };
  kernel: string;
  arch: string;
  cpu: { model: string; sockets: number; cores: number; threads: number; mhz: number | null; flags: string[] };
  memoryMb: number;
  /** Hardware virtualisation: /dev/kvm exists and is usable; false means TCG only. */
  kvm: boolean;
  libvirt: { uri: string; version: string | null; hypervisorVersion: string | null; reachable: boolean; error: string | null };
  qemu: { binary: string | null; version: string | null };
  disks: { name: string; sizeBytes: number; rotational: boolean | null; model: string | null }[];
  pools: StoragePoolInfo[];
  bridges: { name: string; addresses: string[]; up: boolean }[];
  networks: { name: string; bridge: string | null; active: boolean; forward: string | null; autostart: boolean }[];
  uptimeSeconds: number;
  loadAvg: [number, number, number];
}

export interface SnapshotInfo {
  name: string;
  createdAt: string;
  state: DomainState | string;
  current: boolean;
  description: string | null;
  parent: string | null;
}

/** One metrics sample as the agent buffers it. */
export interface MetricSample {
  seq: number;
  /** Unix ms. */
  ts: number;
  /** 'host' or a domain uuid. */
  scope: string;
  /** Metric name → value, e.g. cpu.util (0–100), mem.used_bytes, net.rx_bytes (counter), blk.rd_bytes (counter). */
  values: Record<string, number>;
}

export interface AgentHello {
  agentVersion: string;
  protocol: number;
  pid: number;
  node: string;
  libvirtUri: string;
  startedAt: string;
  installDir: string;
  /** 'systemd' | 'supervisor' | 'foreground' */
  supervisor: string;
}

type DomainRef = { uuid: string } | { name: string };

/** Method → params and result. Keep every method idempotent where the operation allows it. */
export interface AgentMethods {
  'agent.hello': { params: { appVersion: string; protocol: number }; result: AgentHello };
  'agent.ping': { params: Record<string, never>; result: { now: number } };
  /** Stops the agent process (the supervisor does not restart it). */
  'agent.shutdown': { params: Record<string, never>; result: { ok: true } };
  'agent.configure': { params: { libvirtUri?: string; metricsIntervalMs?: number }; result: { ok: true } };

  'host.facts': { params: Record<string, never>; result: HostFacts };

  'domains.list': { params: Record<string, never>; result: DomainInfo[] };
  'domains.get': { params: DomainRef; result: DomainInfo };
  /** Defines (or redefines) a persistent domain from libvirt XML. */
  'domains.define': { params: { xml: string }; result: DomainInfo };
  'domains.start': { params: DomainRef; result: DomainInfo };
  /** ACPI shutdown; resolves when the domain is shut off, or rejects with RPC_TIMEOUT after timeoutMs. */
  'domains.shutdown': { params: DomainRef & { timeoutMs?: number }; result: DomainInfo };
  /** Force off (virsh destroy). */
  'domains.destroy': { params: DomainRef; result: DomainInfo };
  'domains.reboot': { params: DomainRef; result: DomainInfo };
  'domains.reset': { params: DomainRef; result: DomainInfo };
  'domains.suspend': { params: DomainRef; result: DomainInfo };
  'domains.resume': { params: DomainRef; result: DomainInfo };
  /** Undefines the domain (with its snapshot metadata); removeStorage also deletes its disk files. */
  'domains.undefine': { params: DomainRef & { removeStorage?: boolean }; result: { ok: true } };
  /** Changes vCPUs and/or memory in the persistent config (and live where libvirt allows). */
  'domains.setResources': { params: DomainRef & { vcpu?: number; memoryMb?: number }; result: DomainInfo };
  'domains.attachDisk': { params: DomainRef & { source: string; target: string; format?: string; device?: 'disk' | 'cdrom'; bus?: string }; result: DomainInfo };
  'domains.detachDisk': { params: DomainRef & { target: string }; result: DomainInfo };
  'domains.attachNic': { params: DomainRef & { type: 'bridge' | 'network'; source: string; mac?: string; model?: string }; result: DomainInfo };
  'domains.detachNic': { params: DomainRef & { mac: string }; result: DomainInfo };
  /** Inserts an ISO into a CD-ROM (source) or ejects it (source null). */
  'domains.changeMedia': { params: DomainRef & { target: string; source: string | null }; result: DomainInfo };
  'domains.vnc': { params: DomainRef; result: { port: number | null; listen: string | null; passwordSet: boolean } };

  'snapshots.list': { params: DomainRef; result: SnapshotInfo[] };
  'snapshots.create': { params: DomainRef & { name: string; description?: string }; result: SnapshotInfo };
  'snapshots.revert': { params: DomainRef & { name: string }; result: DomainInfo };
  'snapshots.delete': { params: DomainRef & { name: string }; result: { ok: true } };

  'pools.list': { params: Record<string, never>; result: StoragePoolInfo[] };
  'volumes.list': { params: { pool: string }; result: VolumeInfo[] };
  /** qemu-img create (optionally as a copy-on-write overlay of backingFile, or a full copy of copyFrom). */
  'volumes.create': { params: { pool: string; name: string; sizeBytes: number; format: 'qcow2' | 'raw'; backingFile?: string; copyFrom?: string }; result: VolumeInfo };
  'volumes.delete': { params: { pool: string; name: string }; result: { ok: true } };
  /** Writes a NoCloud seed ISO (volume label "cidata") with user-data, meta-data and optional network-config. */
  'volumes.cloudInit': { params: { pool: string; name: string; userData: string; metaData: string; networkConfig?: string }; result: VolumeInfo };

  /** Buffered samples after `afterSeq` (at most `limit`); `dropped` counts samples lost to the ring's bound. */
  'metrics.read': { params: { afterSeq?: number; limit?: number }; result: { samples: MetricSample[]; lastSeq: number; dropped: number; intervalMs: number } };
}

export type AgentMethod = keyof AgentMethods;
export type AgentParams<M extends AgentMethod> = AgentMethods[M]['params'];
export type AgentResult<M extends AgentMethod> = AgentMethods[M]['result'];

/** Notifications the agent sends unasked. */
export interface AgentNotifications {
  'domain.event': { uuid: string; name: string; event: string; state: DomainState };
  'domain.removed': { uuid: string; name: string };
}
