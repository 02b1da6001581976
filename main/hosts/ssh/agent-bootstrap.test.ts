/**
 * The real agent (agents/kvm, built by scripts/build-agent.mjs) where sshd refuses stream-local forwarding
 * (AllowStreamLocalForwarding no, which the namespace hosts of hosts.test.ts do not set): the link reaches it through
 * the agent's own `connect` relay on an exec channel.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../log/logger';
import type { HostLinkStatus, SshTarget } from '../types';
import { ensureRuntime, installAgent, probeHost, startAgent, uninstallAgent } from './bootstrap';
import { createHostLink } from './link';
import { connectSsh } from './session';
import { startTestSshd, type TestSshd } from './testing/sshd';
import { buildAgent } from '../../../scripts/build-agent.mjs';
import { ensureRuntimes } from '../../../scripts/fetch-runtimes.mjs';

const repo = join(import.meta.dirname, '..', '..', '..');
const VERSION = '0.0.0-relay-test';
let sshd: TestSshd;
let tmp: string;
let bundle: string;
let runtimes: { x64: string; arm64: string };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'skydeck-agent-relay-'));
  chmodSync(tmp, 0o777);
  const [built, s] = await Promise.all([buildAgent({ outFile: join(tmp, 'skydeck-agent.cjs'), version: VERSION }), startTestSshd({ extraConfig: ['AllowStreamLocalForwarding no'] })]);
  bundle = built.outFile;
  sshd = s;
  runtimes = ensureRuntimes(repo) as { x64: string; arm64: string };
}, 120_000);
afterAll(async () => {
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the real agent behind an sshd that refuses socket forwarding', () => {
  it('is reached through `agent.cjs connect` on an exec channel', async () => {
    const u = sshd.users.test;
    const target: SshTarget = { address: sshd.address, port: sshd.port, username: u.username, auth: { method: 'key', privateKey: u.privateKey }, hostKeyFingerprint: sshd.hostKeyFingerprint };
    const s = await connectSsh(target);
    const dir = join(tmp, 'skydeck-agent');
    try {
      const probe = await probeHost(s, { dir });
      const node = await ensureRuntime(s, probe, runtimes);
      await installAgent(s, dir, bundle, VERSION);
      await startAgent(s, { dir, nodePath: node, libvirtUri: 'test:///default', systemd: false });
      const link = createHostLink({
        hostId: 'relay',
        resolveTarget: async () => target,
        agentSocketPath: () => `${dir}/agent.sock`,
        fallbackCommand: () => `'${node}' '${dir}/current/agent.cjs' connect --dir '${dir}'`,
        appVersion: VERSION,
        logger: createLogger({ level: 'warn', sink: () => {} }),
      });
      try {
        const st = await new Promise<HostLinkStatus>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`not online: ${JSON.stringify(link.status())}`)), 20_000);
          const check = (x: HostLinkStatus) => x.state === 'online' && (clearTimeout(t), resolve(x));
          link.onStatus(check);
          check(link.status());
        });
        expect(st.hello).toMatchObject({ agentVersion: VERSION, installDir: dir, libvirtUri: 'test:///default' });
        expect((await link.call('domains.list', {})).map((d) => d.name)).toContain('test');
        expect(sshd.log()).toMatch(/refused streamlocal/);
      } finally {
        link.close();
      }
      await uninstallAgent(s, dir);
    } finally {
      s.close();
    }
  }, 60_000);
});
