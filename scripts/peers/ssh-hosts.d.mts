export interface PeerKey {
  privateKey: string;
  privateKeyPath: string;
}
export interface SshHost {
  name: string;
  ns: string;
  address: string;
  port: number;
  hostKeyFingerprint: string;
  hostKeyPath: string;
  root: string;
  users: {
    root: PeerKey & { username: 'root' };
    test: PeerKey & { username: string; password: string; encryptedKey: PeerKey & { passphrase: string }; otherKey: PeerKey };
  };
  exec(cmd: string): Promise<{ code: number; stdout: string; stderr: string }>;
  killSshd(): Promise<void>;
  startSshd(): Promise<void>;
  rotateHostKey(): Promise<string>;
  nsPid: number;
  holderPid: number;
  libvirtd?: { uri: string; vncPortMin: number; vncPortMax: number; stop(): Promise<void> };
}
export interface SshHosts {
  hosts: SshHost[];
  bridge: string;
  startMs: number;
  keysDir: string;
  /** The /16 the hosts live in, e.g. 10.150 (their bridge has .0.1). */
  subnet: string;
  stop(): Promise<void>;
}
export function fingerprintOf(pubPath: string): string;
export function cleanupStale(prefix?: string): Promise<void>;
export function startSshHosts(o: { count: number; prefix?: string; subnet?: string; withLibvirt?: boolean; passwordAuth?: boolean; batch?: number }): Promise<SshHosts>;
