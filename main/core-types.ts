import type { EventBus } from './events/bus';
import type { PlatformPort } from './platform/port';
import type { Logger } from './log/logger';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ConsoleGateway {
  /** Takes an upgrade request for a path under /api/v1/consoles/ (Host and Origin already checked). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Where consoles are served when that is not the UI's origin (desktop: ws://127.0.0.1:PORT); null: the UI's origin. */
  setOrigin(base: string | null): void;
}

/** Who is calling, for the audit log and for permissions. */
export interface CallContext {
  /** `desktop:<os user>` or `api:<remote address>`. */
  actor: string;
  transport: 'ipc' | 'http' | 'internal';
}

export interface CoreOptions {
  dataDir: string;
  platform: PlatformPort;
  logger?: Logger;
  /** The app's version (package.json), shown in system.info and recorded with the schema. */
  version: string;
  /** What is installed on KVM hosts (see paths.ts kvmAssetsIn); default: `out/` of the current directory. */
  kvmAssets?: { agentBundle: string; runtimes: { x64?: string; arm64?: string } };
  /** The workstation's ssh-agent (default: $SSH_AUTH_SOCK). */
  sshAuthSock?: string | null;
}

export interface Core {
  /**
   * Runs one command by name: parses the input against the contract, runs the handler, audits mutating commands.
   * Resolves with the command's output; rejects with an ApiError (never a raw exception).
   */
  dispatch(name: string, input: unknown, ctx: CallContext): Promise<unknown>;
  readonly events: EventBus;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Console WebSockets (one-time tickets from consoles.open): the headless server and the desktop listener hand them upgrades. */
  readonly consoles: ConsoleGateway;
  /** Stops the task engine (running tasks are left to resume at the next start) and closes the database. */
  close(): Promise<void>;
}
