import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_NODE, buildBundle, Client, startAgent, startProcess, tempDir, until } from './testing';

/** The agent's processes: version, systemd unit, supervisor restarts, the connect relay, single instance, shutdown. */
const tmp = tempDir('skd-proc-');
let bundle: string;

beforeAll(async () => {
  bundle = await buildBundle(tmp.path);
});
afterAll(() => tmp.cleanup());

function runToEnd(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(AGENT_NODE, [bundle, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

const pidOf = (file: string): number | undefined => {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('agent processes', () => {
  it('prints its version and a systemd unit; rejects bad usage', async () => {
    expect(JSON.parse((await runToEnd(['version'])).stdout)).toEqual({ agentVersion: '9.9.9-test', protocol: 1 });
    const unit = (await runToEnd(['systemd-unit', '--dir', '/opt/sky deck/agent', '--node', '/opt/skydeck/node/bin/node', '--uri', 'qemu:///system'])).stdout;
    expect(unit).toContain('Type=simple');
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('RestartSec=2');
    expect(unit).toContain('ExecStart=/opt/skydeck/node/bin/node "/opt/sky deck/agent/current/agent.cjs" serve --dir "/opt/sky deck/agent" --uri qemu:///system');
    expect(unit).toMatch(/--supervisor systemd\n/);
    const bad = await runToEnd(['serve']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dir is required/);
    expect((await runToEnd(['frobnicate'])).code).toBe(2);
  });

  it('relays stdin/stdout to the socket in connect mode, and refuses a second agent on the same socket', async () => {
    const dir = join(tmp.path, 'relay');
    const a = await startAgent(bundle, dir, ['--metrics-interval', '60000']);
    try {
      const r = await runToEnd(['connect', '--dir', dir], `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.hello', params: { appVersion: 'x', protocol: 1 } })}\n${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'domains.get', params: { name: 'test' } })}\n`);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; result: { agentVersion?: string; name?: string } });
      expect(lines.find((l) => l.id === 1)!.result.agentVersion).toBe('9.9.9-test');
      expect(lines.find((l) => l.id === 2)!.result.name).toBe('test');

      const second = await runToEnd(['serve', '--dir', dir, '--uri', 'test:///default']);
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(/already listening/);
      expect((await a.client.call('agent.ping', {})).now).toBeGreaterThan(0);
    } finally {
      a.client.close();
      await a.stop();
    }
    const missing = await runToEnd(['connect', '--dir', join(tmp.path, 'nowhere')], '');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot reach/);
  });

  it('starts over a stale socket, and exits 64 on agent.shutdown', async () => {
    const dir = join(tmp.path, 'stale');
    const first = startProcess(bundle, ['serve', '--dir', dir, '--uri', 'test:///default']);
    await until(() => (existsSync(join(dir, 'agent.pid')) ? true : undefined), 5000, 'agent.pid');
    first.proc.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dir, 'agent.sock'))).toBe(true); // left behind
    const a = await startAgent(bundle, dir);
    expect(await a.client.call('agent.shutdown', {})).toEqual({ ok: true });
    expect(await a.exited).toBe(64);
    expect(existsSync(join(dir, 'agent.sock'))).toBe(false);
    expect(existsSync(join(dir, 'agent.pid'))).toBe(false);
  });

  it('supervises: restarts a killed agent from the current bundle, stops with it on SIGTERM', async () => {
    const dir = join(tmp.path, 'sup');
    mkdirSync(join(dir, 'current'), { recursive: true });
    copyFileSync(bundle, join(dir, 'current', 'agent.cjs'));
    const sup = startProcess(join(dir, 'current', 'agent.cjs'), ['supervise', '--dir', dir, '--uri', 'test:///default', '--metrics-interval', '60000']);
    try {
      const hello = async (): Promise<{ pid: number; supervisor: string }> => {
        const c = await Client.connect(join(dir, 'agent.sock'));
        try {
          return await c.call('agent.hello', { appVersion: 'x', protocol: 1 });
        } finally {
          c.close();
        }
      };
      const h1 = await until(() => hello(), 8000, 'the supervised agent');
      expect(h1.supervisor).toBe('supervisor');
      expect(pidOf(join(dir, 'supervisor.pid'))).toBe(sup.proc.pid);
      expect(pidOf(join(dir, 'agent.pid'))).toBe(h1.pid);

      process.kill(h1.pid, 'SIGKILL');
      const h2 = await until(async () => {
        const h = await hello();
        return h.pid !== h1.pid ? h : undefined;
      }, 8000, 'the restarted agent');
      expect(h2.supervisor).toBe('supervisor');

      sup.proc.kill('SIGTERM');
      expect(await sup.exited).toBe(0);
      await until(() => (!alive(h2.pid) ? true : undefined), 5000, 'the agent to stop');
      expect(existsSync(join(dir, 'supervisor.pid'))).toBe(false);
      expect(existsSync(join(dir, 'agent.sock'))).toBe(false);
      const log = readFileSync(join(dir, 'agent.log'), 'utf8');
      expect(log).toMatch(/"msg":"the agent exited; restarting".*"signal":"SIGKILL"/);
      expect(log).toMatch(/"c":"agent".*"msg":"listening"/);
    } finally {
      if (sup.proc.exitCode === null) sup.proc.kill('SIGKILL');
    }

    // agent.shutdown is final: the supervisor does not restart the agent, it leaves with it.
    const again = startProcess(join(dir, 'current', 'agent.cjs'), ['supervise', '--dir', dir, '--uri', 'test:///default', '--metrics-interval', '60000']);
    try {
      const c = await until(() => Client.connect(join(dir, 'agent.sock')), 8000, 'the supervised agent');
      await c.call('agent.shutdown', {});
      expect(await again.exited).toBe(0);
      expect(existsSync(join(dir, 'supervisor.pid'))).toBe(false);
      expect(readFileSync(join(dir, 'agent.log'), 'utf8')).toMatch(/the agent was shut down; the supervisor stops too/);
    } finally {
      if (again.proc.exitCode === null) again.proc.kill('SIGKILL');
    }
  });
});
