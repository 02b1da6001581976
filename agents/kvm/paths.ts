import { join, resolve } from 'node:path';

/** Files in the install directory (see shared/agent/protocol.ts for where that is). */
export function agentPaths(dir: string): { dir: string; socket: string; pid: string; supervisorPid: string; bundle: string; log: string; state: string } {
  const d = resolve(dir);
  return {
    dir: d,
    socket: join(d, 'agent.sock'),
    pid: join(d, 'agent.pid'),
    supervisorPid: join(d, 'supervisor.pid'),
    bundle: join(d, 'current', 'agent.cjs'),
    log: join(d, 'agent.log'),
    state: join(d, 'state'),
  };
}

/** serve's exit code after agent.shutdown: neither the supervisor nor systemd (RestartPreventExitStatus) restarts it. */
export const EXIT_NO_RESTART = 64;
/** Another agent already answers on the socket. */
export const EXIT_ALREADY_RUNNING = 3;
