import type { PeerLibvirtd, SshHost } from './ssh-hosts.mjs';

export type { PeerLibvirtd };
export const LIBVIRT_URI: 'qemu:///system';
/** Host i gets VNC ports 5900 + 20·i … +19. */
export const VNC_PORTS_PER_HOST: number;
/** The guest bridge in every libvirt host ('br0'), with GUEST_BRIDGE_ADDRESS/GUEST_BRIDGE_PREFIX on it. */
export const GUEST_BRIDGE: string;
export const GUEST_BRIDGE_ADDRESS: string;
export const GUEST_BRIDGE_PREFIX: number;
export function vncRange(index: number): { vncPortMin: number; vncPortMax: number };
/** Creates HOST_ROOT/libvirt (private config, state, logs, cache, patched passwd/group/hosts); synchronous. */
export function prepareLibvirt(dir: string, index: number): { vncPortMin: number; vncPortMax: number };
/** Shell lines (root, inside the host's new mount namespace, `set -e`) that bind-mount the private directories. */
export function libvirtMountScript(dir: string): string[];
export interface StartLibvirtdOptions {
  /** The host's name (messages). */
  name: string;
  /** The host's root (`host.root`), prepared with prepareLibvirt. */
  dir: string;
  /** nsenter arguments that enter the host (`--target PID --mount --uts --net [--pid]`). */
  enter: string[];
  env?: NodeJS.ProcessEnv;
  /** Child processes of the caller (libvirtd's nsenter is added while it runs). */
  children?: Set<import('node:child_process').ChildProcess>;
  vncPortMin: number;
  vncPortMax: number;
}
/** libvirtd in a host prepared by ssh-hosts.mjs; resolves when virsh answers and the pool and br0 are ready. */
export function startLibvirtd(o: StartLibvirtdOptions): Promise<PeerLibvirtd>;
/** libvirtd in a host that is already running (prepares and mounts through nsenter); index picks its VNC range. */
export function startLibvirtd(host: SshHost, index: number): Promise<PeerLibvirtd>;
