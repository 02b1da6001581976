import type { Duplex } from 'node:stream';
import type { AgentHello, AgentMethod, AgentNotifications, AgentParams, AgentResult } from '@shared/agent/protocol';

/**
 * The SSH side of a KVM host, as main/ sees it. main/hosts/ssh implements these; main/kvm (the driver, tasks and
 * handlers) uses only these types.
 *
 * Errors: every failure is an ApiError (shared/errors) whose `details.reason` is one of SshFailure, so that a task
 * ends with a reason the UI can group by and the host's status reason reads well:
 *   unreachable (`refused`, `timeout`, `dns`, `net`), forbidden (`auth_failed`), conflict (`host_key_unknown`,
 *   `host_key_changed`, details.fingerprint and details.expected), validation (`bad_key`, `key_passphrase`).
 */
export type SshFailure =
  | 'refused'
  | 'timeout'
  | 'dns'
  | 'net'
  | 'closed'
  | 'auth_failed'
  | 'host_key_unknown'
  | 'host_key_changed'
  | 'bad_key'
  | 'key_passphrase'
  | 'agent_unavailable'
  /** sshd forbids stream-local forwarding (the link then uses the agent's `connect` relay). */
  | 'forward_refused'
  /** The Unix socket does not exist on the host (the agent is not running). */
  | 'socket_unavailable'
  | 'protocol';

export type SshAuth =
  | { method: 'password'; password: string }
  | { method: 'key'; privateKey: string; passphrase?: string }
  /** ssh-agent at this socket (the platform's SSH_AUTH_SOCK). */
  | { method: 'agent'; socket: string };

export interface SshEndpoint {
  address: string;
  port: number;
  username: string;
  auth: SshAuth;
  /** The trusted key's fingerprint (`SHA256:…`). A different key fails with host_key_changed; null fails with host_key_unknown. */
  hostKeyFingerprint: string | null;
}

export interface SshTarget extends SshEndpoint {
  jump?: SshEndpoint;
}

export interface HostKeyInfo {
  algorithm: string;
  fingerprint: string;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** Output beyond this fails the call with reason `output_too_large` (default 16 MiB). */
  maxOutputBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface UploadOptions {
  mode?: number;
  /** `exec` streams through `cat` on an exec channel (fastest); `sftp` where the host has no shell. Default: exec, falling back to sftp. */
  method?: 'exec' | 'sftp';
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/** One authenticated SSH connection. Everything for a host (agent, consoles, file transfers) multiplexes over one. */
export interface SshSession {
  readonly target: SshTarget;
  readonly hostKey: HostKeyInfo;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Uploads a local file or a buffer to a remote path (written to `<path>.part`, then renamed). Resolves to bytes sent. */
  upload(source: string | Buffer, remotePath: string, opts?: UploadOptions): Promise<number>;
  /** A stream to a Unix socket on the host (ssh2 openssh_forwardOutStreamLocal). */
  openUnixSocket(path: string): Promise<Duplex>;
  /** A stream to host:port as seen from the SSH server (direct-tcpip), e.g. a guest's VNC port on 127.0.0.1. */
  forwardTcp(host: string, port: number): Promise<Duplex>;
  /** A PTY shell or command (for terminals). */
  shell?(opts: { cols: number; rows: number; term?: string; command?: string }): Promise<Duplex & { setWindow(rows: number, cols: number): void }>;
  readonly closed: boolean;
  onClose(cb: (reason: string) => void): () => void;
  close(): void;
}

export interface SshConnectOptions {
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  signal?: AbortSignal;
}

export type HostLinkState = 'connecting' | 'online' | 'offline' | 'unreachable';

export interface HostLinkStatus {
  state: HostLinkState;
  /** Why (the SSH or agent error), null when online. Pings refresh latencyMs without an onStatus event. */
  reason: string | null;
  /** A SshFailure or `agent_down` / `agent_version`, for grouping. */
  failure: string | null;
  since: string;
  hello: AgentHello | null;
  latencyMs: number | null;
  nextRetryAt: string | null;
}

export interface RpcCallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The agent link of one host: one SSH session, one agent socket, reconnect with back-off. */
export interface HostLink {
  readonly hostId: string;
  status(): HostLinkStatus;
  onStatus(cb: (s: HostLinkStatus) => void): () => void;
  /** Resolves with the session once connected (connecting if needed); rejects with the connect error. */
  session(): Promise<SshSession>;
  call<M extends AgentMethod>(method: M, params: AgentParams<M>, opts?: RpcCallOptions): Promise<AgentResult<M>>;
  onNotification<N extends keyof AgentNotifications>(method: N, cb: (params: AgentNotifications[N]) => void): () => void;
  /** Drop the connection and connect again now (after new credentials or an accepted host key). */
  reconnect(): void;
  close(): void;
}
