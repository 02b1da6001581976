export interface PeerKey {
  /** OpenSSH private key text (unencrypted ed25519 unless it is `encryptedKey`). */
  privateKey: string;
  /** The same key as a file (mode 0600), for `ssh -i`. */
  privateKeyPath: string;
}
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface PeerLibvirtd {
  uri: string;
  vncPortMin: number;
  vncPortMax: number;
  /** libvirtd's pid (as this machine sees it). */
  pid: number;
  logPath: string;
  startMs: number;
  /** The guest bridge in the host (no uplink), e.g. br0, with bridgeAddress/bridgePrefix on it. */
  bridge: string;
  bridgeAddress: string;
  bridgePrefix: number;
  /** The host's libvirt state on this machine (etc, lib, run, log, cache). */
  stateDir: string;
  qemuLogDir: string;
  /** `virsh -q -c qemu:///system ARGS` inside the host. */
  virsh(args: string, opts?: { timeout?: number }): Promise<ExecResult>;
  stop(): Promise<void>;
  start(): Promise<void>;
}
export interface SshHost {
  /** Also the host's hostname and its network namespace. */
  name: string;
  ns: string;
  address: string;
  port: number;
  /** 'SHA256:…' as `ssh-keygen -lf` prints it; changes with rotateHostKey(). */
  hostKeyFingerprint: string;
  hostKeyPath: string;
  /**
   * The host's private directory on this machine: tmp/ (its /tmp), opt/ (its /opt/skydeck), home/ (its
   * /home/skydeck-test), roothome/ (its /root, with an empty .bashrc), auth/ (authorized keys), etc/ (sshd), libvirt/.
   */
  root: string;
  users: {
    /** root logs in with its key only. */
    root: PeerKey & { username: 'root' };
    test: PeerKey & { username: string; password: string; encryptedKey: PeerKey & { passphrase: string }; otherKey: PeerKey };
  };
  /** Runs `sh -c cmd` as root inside the host (its mount, UTS, network and PID namespaces); never throws on exit codes. */
  exec(cmd: string, opts?: { timeout?: number }): Promise<ExecResult>;
  /** The host is lost: SIGKILL to its sshd listener and every session. */
  killSshd(): Promise<void>;
  /** Starts sshd again; resolves when port 22 accepts connections. */
  startSshd(): Promise<void>;
  /** A new host key (as after a reinstall); sshd restarts; answers the new fingerprint. */
  rotateHostKey(): Promise<string>;
  sshdLogPath: string;
  /** PID 1 of the host (a reaping init) as this machine sees it: the nsenter target. */
  nsPid: number;
  /** The `unshare` process that holds the host's namespaces (a child of this process). */
  holderPid: number;
  libvirtd?: PeerLibvirtd;
}
export interface SshHosts {
  hosts: SshHost[];
  /** The bridge in the root namespace (SUBNET.0.1/16). */
  bridge: string;
  /** The /16 the hosts live in, e.g. 10.150 (their bridge has .0.1). */
  subnet: string;
  /** From the call to every host answering (and every libvirtd, with withLibvirt). */
  startMs: number;
  /** The run's client keys (STATE_ROOT/PREFIX/keys; removed by stop() and cleanupStale()). */
  keysDir: string;
  /** Ends every process of every host; removes the namespaces, the bridge, the private directories and the keys. */
  stop(): Promise<void>;
}
export interface StartSshHostsOptions {
  count: number;
  /** Namespaces are PREFIX-0…; anything left with this prefix by an earlier run is removed first. Default 'skd'. */
  prefix?: string;
  /** First two octets, e.g. '10.213'; default: a free /16 in 10.150–10.199 leased for this run. */
  subnet?: string;
  /** true: a libvirtd in every host; a number N: in the first N hosts. */
  withLibvirt?: boolean | number;
  /** sshd's PasswordAuthentication (default true). */
  passwordAuth?: boolean;
  /** Hosts started at the same time (default 16). */
  batch?: number;
}
export const STATE_ROOT: string;
export const TEST_USER: string;
export const TEST_PASSWORD: string;
export function fingerprintOf(pubPath: string): string;
export function ensureTestUser(): Promise<{ uid: number; gid: number; home: string }>;
export function waitPort(address: string, port: number, ms: number, failed?: () => string | null): Promise<void>;
export function cleanupStale(prefix?: string): Promise<void>;
/** Removes the runs whose owning process is gone (any prefix); answers the prefixes removed. */
export function cleanupOrphans(): Promise<string[]>;
export function startSshHosts(o: StartSshHostsOptions): Promise<SshHosts>;
