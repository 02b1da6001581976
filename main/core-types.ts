import type { EventBus } from './events/bus';
import type { PlatformPort } from './platform/port';
import type { Logger } from './log/logger';

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
  /** Stops the task engine (running tasks are left to resume at the next start) and closes the database. */
  close(): Promise<void>;
}
