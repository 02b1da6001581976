/**
 * Installing the Skydeck agent on a host over an SshSession, in steps a task runs one by one. Every step is idempotent
 * (a resumed task repeats the step it was in): probing only reads, uploads are skipped when the same bytes are already
 * there, starting an agent that runs restarts it.
 *
 * Layout on the host (DIR = /opt/skydeck/agent for root, else ~/.local/share/skydeck-agent):
 *   DIR/runtime/node-v<version>-linux-<arch>/bin/node   the Node.js Skydeck carries, for hosts without Node ≥ 22
 *   DIR/versions/<version>/agent.cjs                     each agent bundle uploaded
 *   DIR/current -> versions/<version>                    switched atomically (ln -sfn to a temp name, mv -T)
 *   DIR/agent.sock, DIR/agent.log, DIR/supervisor.pid    the running agent
 *
 * Scripts run as `sh -s` with the script on stdin, so the login shell does not matter (fish, csh) and nothing needs
 * quoting twice; commands inside that could read stdin get </dev/null.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ApiError } from '@shared/errors';
import { AGENT_DIR_ROOT, AGENT_DIR_USER, AGENT_NODE_MAJOR } from '@shared/agent/protocol';
import type { ExecResult, SshSession } from '../types';
import { shq } from './session';

export type HostArch = 'x64' | 'arm64';

export interface HostProbe {
  /** uname -s (always Linux: anything else throws). */
  os: string;
  kernel: string;
  /** uname -m as the host says it. */
  machine: string;
  arch: HostArch;
  osId: string;
  osVersion: string;
  osPrettyName: string;
  uid: number;
  user: string;
  home: string;
  /** Where the agent goes: AGENT_DIR_ROOT for root, else $HOME/AGENT_DIR_USER. */
  installDir: string;
  /** systemd is PID 1 (/run/systemd/system exists). */
  systemd: boolean;
  virsh: string | null;
  qemu: string | null;
  /** /dev/kvm exists. */
  kvmDevice: boolean;
  /** /dev/kvm is readable and writable by this user: hardware virtualisation usable. */
  kvm: boolean;
  nodePath: string | null;
  nodeVersion: string | null;
  nodeMajor: number | null;
  /** Free space (KiB) in the file system that holds (or will hold) the install dir. */
  freeKb: number | null;
  /** Runtimes already unpacked under DIR/runtime (paths of their bin/node). */
  runtimes: string[];
  agent: {
    installed: boolean;
    /** What `agent.cjs version` printed, null when it could not run. */
    version: string | null;
    /** DIR/current's target, e.g. versions/0.1.0. */
    current: string | null;
    socket: boolean;
    /** systemd unit active, or supervisor pid alive. */
    running: 'systemd' | 'supervisor' | null;
  };
}

export type ProgressFn = (sent: number, total: number) => void;

export interface StepOptions {
  signal?: AbortSignal;
}

const ARCH: Record<string, HostArch> = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64' };
const UNIT_PATH = '/etc/systemd/system/skydeck-agent.service';
const UNIT = 'skydeck-agent';

/** Runs a POSIX sh script (on stdin) and returns its result; throws on a non-zero exit unless `allowFail`. */
async function sh(session: SshSession, script: string, o: { timeoutMs?: number; signal?: AbortSignal; allowFail?: boolean; what?: string } = {}): Promise<ExecResult> {
  const r = await session.exec('sh -s', { stdin: script, timeoutMs: o.timeoutMs ?? 60_000, signal: o.signal });
  if (r.code !== 0 && !o.allowFail) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' ') || `exit ${r.code ?? r.signal}`;
    throw new ApiError('conflict', `${o.what ?? 'a command on the host'} failed: ${why}`, { reason: 'host_command', exitCode: r.code });
  }
  return r;
}

/** key=value lines (prefixed so that login-shell noise cannot pass for data). */
function kv(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const x = /^@@([a-z_]+)=(.*)$/.exec(line);
    if (x && !m.has(x[1]!)) m.set(x[1]!, x[2]!);
  }
  return m;
}

/** The install dir for a user (a shell expression when home is unknown). */
export function installDirFor(uid: number, home: string): string {
  return uid === 0 ? AGENT_DIR_ROOT : `${home.replace(/\/+$/, '')}/${AGENT_DIR_USER}`;
}

function probeScript(dirOverride?: string): string {
  return `
export LC_ALL=C
o() { printf '@@%s=%s\\n' "$1" "$2"; }
o os "$(uname -s 2>/dev/null)"
o kernel "$(uname -r 2>/dev/null)"
o machine "$(uname -m 2>/dev/null)"
if [ -r /etc/os-release ]; then
  ( . /etc/os-release; o os_id "\${ID:-}"; o os_version "\${VERSION_ID:-}"; o os_pretty "\${PRETTY_NAME:-}" )
fi
U=$(id -u); o uid "$U"; o user "$(id -un)"; o home "$HOME"
if [ -d /run/systemd/system ]; then o systemd 1; else o systemd 0; fi
o virsh "$(command -v virsh 2>/dev/null)"
Q=$(command -v qemu-system-x86_64 2>/dev/null || command -v qemu-system-aarch64 2>/dev/null)
[ -z "$Q" ] && [ -x /usr/libexec/qemu-kvm ] && Q=/usr/libexec/qemu-kvm
o qemu "$Q"
if [ -e /dev/kvm ]; then o kvm_dev 1; else o kvm_dev 0; fi
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then o kvm 1; else o kvm 0; fi
N=$(command -v node 2>/dev/null)
o node "$N"
[ -n "$N" ] && o node_version "$("$N" -v </dev/null 2>/dev/null)"
${dirOverride ? `D=${shq(dirOverride)}` : `if [ "$U" = 0 ]; then D=${shq(AGENT_DIR_ROOT)}; else D="$HOME/${AGENT_DIR_USER}"; fi`}
o dir "$D"
P=$D; while [ ! -d "$P" ]; do P=$(dirname "$P"); done
o free_kb "$(df -Pk "$P" 2>/dev/null | awk 'NR==2 {print $4}')"
AN=
for R in "$D"/runtime/node-v*/bin/node; do [ -x "$R" ] && { o runtime "$R"; AN=$R; }; done
[ -z "$AN" ] && AN=$N
if [ -f "$D/current/agent.cjs" ]; then
  o agent 1
  o current "$(readlink "$D/current" 2>/dev/null)"
  [ -n "$AN" ] && o agent_version "$("$AN" "$D/current/agent.cjs" version </dev/null 2>/dev/null | head -n 1)"
else o agent 0; fi
if [ -S "$D/agent.sock" ]; then o agent_sock 1; else o agent_sock 0; fi
R=
if [ "$U" = 0 ] && [ -f ${UNIT_PATH} ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ${UNIT} 2>/dev/null; then R=systemd
elif [ -f "$D/supervisor.pid" ] && kill -0 "$(cat "$D/supervisor.pid")" 2>/dev/null; then R=supervisor; fi
o running "$R"
exit 0
`;
}

/** Several `runtime=` lines: kv() keeps the first, this collects all. */
function all(stdout: string, key: string): string[] {
  return stdout
    .split('\n')
    .map((l) => new RegExp(`^@@${key}=(.*)$`).exec(l)?.[1])
    .filter((x): x is string => !!x);
}

function agentVersionOf(text: string | undefined): string | null {
  const t = text?.trim();
  if (!t) return null;
  try {
    const j = JSON.parse(t) as unknown;
    if (j && typeof j === 'object') {
      const o = j as { agentVersion?: unknown; version?: unknown };
      if (typeof o.agentVersion === 'string') return o.agentVersion;
      if (typeof o.version === 'string') return o.version;
    }
    if (typeof j === 'string') return j;
  } catch {
    /* plain text */
  }
  return t.replace(/^v(?=\d)/, '').split(/\s+/).pop() ?? t;
}

/**
 * One exec that reads what the bootstrap needs to know. Throws validation/not_linux for a non-Linux host and
 * not_supported/unsupported_arch for CPUs other than x86_64 and aarch64. A missing libvirt is returned (virsh: null),
 * not thrown: whether that matters is the caller's decision.
 */
export async function probeHost(session: SshSession, o: StepOptions & { dir?: string } = {}): Promise<HostProbe> {
  const r = await sh(session, probeScript(o.dir), { signal: o.signal, timeoutMs: 60_000, allowFail: true, what: 'probing the host' });
  const m = kv(r.stdout);
  const host = session.target.address;
  const os = m.get('os') ?? '';
  if (os !== 'Linux') {
    const what = os || (r.stderr.trim().split('\n')[0] ?? '') || 'no POSIX shell answered';
    throw new ApiError('validation', `not a Linux host: ${host} (${what})`, { reason: 'not_linux', os });
  }
  const machine = m.get('machine') ?? '';
  const arch = ARCH[machine];
  if (!arch) throw new ApiError('not_supported', `the CPU architecture of ${host} (${machine || 'unknown'}) is not supported: x86_64 and aarch64 are`, { reason: 'unsupported_arch', machine });
  const nodeVersion = m.get('node_version')?.trim() || null;
  const major = nodeVersion ? Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]) : NaN;
  const uid = Number(m.get('uid'));
  const freeKb = Number(m.get('free_kb'));
  const running = m.get('running');
  return {
    os,
    kernel: m.get('kernel') ?? '',
    machine,
    arch,
    osId: m.get('os_id') ?? '',
    osVersion: m.get('os_version') ?? '',
    osPrettyName: m.get('os_pretty') ?? '',
    uid,
    user: m.get('user') ?? '',
    home: m.get('home') ?? '',
    installDir: m.get('dir') || installDirFor(uid, m.get('home') ?? ''),
    systemd: m.get('systemd') === '1',
    virsh: m.get('virsh') || null,
    qemu: m.get('qemu') || null,
    kvmDevice: m.get('kvm_dev') === '1',
    kvm: m.get('kvm') === '1',
    nodePath: m.get('node') || null,
    nodeVersion,
    nodeMajor: Number.isFinite(major) ? major : null,
    freeKb: Number.isFinite(freeKb) && m.get('free_kb') !== '' ? freeKb : null,
    runtimes: all(r.stdout, 'runtime'),
    agent: {
      installed: m.get('agent') === '1',
      version: agentVersionOf(m.get('agent_version')),
      current: m.get('current') || null,
      socket: m.get('agent_sock') === '1',
      running: running === 'systemd' || running === 'supervisor' ? running : null,
    },
  };
}

/** The Node.js version of an npm node-linux-<arch> tarball: from its file name, else from its package.json. */
export function runtimeVersionOf(tgz: string): string {
  const m = /node-linux-(?:x64|arm64)-v?(\d+\.\d+\.\d+)\.tgz$/.exec(basename(tgz));
  if (m) return m[1]!;
  const r = spawnSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const v = r.status === 0 ? (JSON.parse(r.stdout) as { version?: string }).version : undefined;
  if (!v) throw new ApiError('internal', `cannot tell the Node.js version of ${tgz}`);
  return v;
}

/**
 * A Node.js ≥ 22 for the agent: the host's own when new enough, else the runtime Skydeck carries (unpacked once under
 * DIR/runtime and shared by agent upgrades). Returns the node binary's path.
 */
export async function ensureRuntime(
  session: SshSession,
  probe: HostProbe,
  runtimes: { x64?: string; arm64?: string },
  onProgress?: ProgressFn,
  signal?: AbortSignal,
): Promise<string> {
  if (probe.nodePath && probe.nodeMajor !== null && probe.nodeMajor >= AGENT_NODE_MAJOR) return probe.nodePath;
  const tgz = runtimes[probe.arch];
  if (!tgz) throw new ApiError('not_supported', `${session.target.address} has no Node.js ${AGENT_NODE_MAJOR} and Skydeck carries none for ${probe.arch}`, { reason: 'runtime_missing', arch: probe.arch });
  const version = runtimeVersionOf(tgz);
  const D = probe.installDir;
  const rt = `${D}/runtime/node-v${version}-linux-${probe.arch}`;
  const node = `${rt}/bin/node`;
  const have = await sh(session, `[ -x ${shq(node)} ] && ${shq(node)} -v </dev/null 2>/dev/null`, { allowFail: true, signal });
  if (have.code === 0 && have.stdout.trim() === `v${version}`) return node;

  const size = (await stat(tgz)).size;
  // bin/node unpacked is about 2.4× the tarball; the tarball sits beside it until extracted.
  const needKb = Math.ceil((size * 3.5) / 1024);
  if (probe.freeKb !== null && probe.freeKb < needKb) {
    throw new ApiError('conflict', `not enough space on ${session.target.address} for the Node.js runtime in ${D}: ${Math.round(probe.freeKb / 1024)} MiB free, ${Math.round(needKb / 1024)} MiB needed`, { reason: 'disk_full', freeKb: probe.freeKb, needKb });
  }
  await sh(session, `mkdir -p ${shq(`${D}/runtime`)}`, { signal, what: `creating ${D}/runtime` });
  const remoteTgz = `${D}/runtime/.node-v${version}-linux-${probe.arch}.tgz`;
  await session.upload(tgz, remoteTgz, { onProgress, signal });
  // Only bin/node (and the licence) are needed: the headers and docs would triple the disk use.
  const r = await sh(
    session,
    `set -e
T=$(mktemp -d ${shq(`${D}/runtime/.extract.`)}XXXXXX)
trap 'rm -rf "$T"' EXIT
tar -xzf ${shq(remoteTgz)} -C "$T" --strip-components=1 package/bin/node package/LICENSE </dev/null
V=$("$T/bin/node" -v </dev/null 2>&1) || { echo "the Node.js runtime does not run on this host: $V" >&2; exit 3; }
[ "$V" = v${version} ] || { echo "unexpected Node.js version $V" >&2; exit 3; }
rm -rf ${shq(rt)}
mv "$T" ${shq(rt)}
trap - EXIT
rm -f ${shq(remoteTgz)}
echo "$V"
`,
    { signal, timeoutMs: 300_000, allowFail: true },
  );
  if (r.code !== 0) {
    await sh(session, `rm -f ${shq(remoteTgz)}`, { allowFail: true });
    const why = r.stderr.trim().split('\n').slice(-3).join(' ');
    if (r.code === 3) throw new ApiError('not_supported', `${why} (${session.target.address}, ${probe.osPrettyName || probe.os})`, { reason: 'runtime_broken' });
    throw new ApiError('conflict', `unpacking the Node.js runtime on ${session.target.address} failed: ${why || `exit ${r.code}`}`, { reason: 'host_command' });
  }
  return node;
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export interface InstalledAgent {
  path: string;
  sha256: string;
  /** False when the same bundle was already there. */
  uploaded: boolean;
}

/**
 * Uploads the bundle to DIR/versions/<version>/agent.cjs (skipped when the same sha256 is there), switches DIR/current
 * to it atomically, and prunes versions other than the new and the previous one.
 */
export async function installAgent(session: SshSession, dir: string, bundlePath: string, version: string, onProgress?: ProgressFn, signal?: AbortSignal): Promise<InstalledAgent> {
  if (!/^[\w.+-]+$/.test(version)) throw new ApiError('validation', `bad agent version ${version}`, { reason: 'bad_version' });
  const sha256 = await sha256File(bundlePath);
  const vdir = `${dir}/versions/${version}`;
  const file = `${vdir}/agent.cjs`;
  const remoteSum = await sh(
    session,
    `mkdir -p ${shq(vdir)} && chmod 755 ${shq(dir)} ${shq(`${dir}/versions`)} ${shq(vdir)}
F=${shq(file)}
[ -f "$F" ] || exit 0
if command -v sha256sum >/dev/null 2>&1; then sha256sum "$F" </dev/null; elif command -v shasum >/dev/null 2>&1; then shasum -a 256 "$F" </dev/null; else openssl dgst -sha256 -r "$F" </dev/null; fi`,
    { signal, what: `preparing ${vdir}` },
  );
  const uploaded = remoteSum.stdout.trim().split(/\s+/)[0] !== sha256;
  if (uploaded) await session.upload(bundlePath, file, { mode: 0o755, onProgress, signal });
  else {
    const size = (await stat(bundlePath)).size;
    onProgress?.(size, size);
  }
  await sh(
    session,
    `set -e
cd ${shq(dir)}
PREV=$(readlink current 2>/dev/null || true)
ln -sfn ${shq(`versions/${version}`)} .current.tmp
mv -T .current.tmp current 2>/dev/null || { rm -f current; mv .current.tmp current; }
for V in versions/*; do
  [ "$V" = ${shq(`versions/${version}`)} ] || [ "$V" = "$PREV" ] || rm -rf "$V"
done
`,
    { signal, what: `switching ${dir}/current to ${version}` },
  );
  return { path: file, sha256, uploaded };
}

export interface StartAgentOptions extends StepOptions {
  dir: string;
  nodePath: string;
  libvirtUri: string;
  /** Use systemd when the host has it (only as root; others get the supervisor). */
  systemd: boolean;
  /** How long to wait for the socket. Default 10 s. */
  waitMs?: number;
}

export type AgentSupervisor = 'systemd' | 'supervisor';

const stopSupervisorScript = (dir: string) => `
D=${shq(dir)}
if [ -f "$D/supervisor.pid" ]; then
  P=$(cat "$D/supervisor.pid")
  if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then
    kill "$P" 2>/dev/null
    i=0; while kill -0 "$P" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -9 "$P" 2>/dev/null
  fi
  rm -f "$D/supervisor.pid"
fi
`;

const stopUnitScript = `
if [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1 && [ -f ${UNIT_PATH} ]; then systemctl stop ${UNIT} </dev/null 2>/dev/null || true; fi
`;

/**
 * Starts (or restarts) the agent: as a systemd unit when root on a systemd host (unit text from the agent's own
 * `systemd-unit` command), else under the agent's `supervise` in the background. Waits for DIR/agent.sock.
 */
export async function startAgent(session: SshSession, o: StartAgentOptions): Promise<AgentSupervisor> {
  const D = o.dir;
  const agent = `${D}/current/agent.cjs`;
  const uid = Number((await sh(session, 'id -u', { signal: o.signal })).stdout.trim());
  const useSystemd = o.systemd && uid === 0 && (await sh(session, '[ -d /run/systemd/system ] && command -v systemctl >/dev/null', { allowFail: true, signal: o.signal })).code === 0;
  let how: AgentSupervisor;
  if (useSystemd) {
    const unit = await sh(session, `${shq(o.nodePath)} ${shq(agent)} systemd-unit --dir ${shq(D)} --node ${shq(o.nodePath)} --uri ${shq(o.libvirtUri)} </dev/null`, { signal: o.signal, what: 'asking the agent for its systemd unit' });
    if (!/\[Service\]/.test(unit.stdout)) throw new ApiError('conflict', `the agent printed no systemd unit: ${unit.stdout.slice(0, 200)}`, { reason: 'agent_start_failed' });
    await session.upload(Buffer.from(unit.stdout), UNIT_PATH, { mode: 0o644, signal: o.signal });
    await sh(
      session,
      `${stopSupervisorScript(D)}
set -e
systemctl daemon-reload </dev/null
systemctl enable ${UNIT} </dev/null 2>/dev/null
systemctl stop ${UNIT} </dev/null || true
rm -f ${shq(`${D}/agent.sock`)}
systemctl start ${UNIT} </dev/null
`,
      { signal: o.signal, what: 'starting the skydeck-agent service' },
    );
    how = 'systemd';
  } else {
    await sh(
      session,
      `${stopUnitScript}${stopSupervisorScript(D)}
set -e
cd ${shq(D)}
rm -f agent.sock
S=; command -v setsid >/dev/null 2>&1 && S=setsid
# The supervisor writes DIR/supervisor.pid itself (and refuses to start twice).
$S nohup ${shq(o.nodePath)} ${shq(agent)} supervise --dir ${shq(D)} --uri ${shq(o.libvirtUri)} >>agent.log 2>&1 </dev/null &
`,
      { signal: o.signal, what: 'starting the agent supervisor' },
    );
    how = 'supervisor';
  }
  const tenths = Math.ceil((o.waitMs ?? 10_000) / 100);
  const wait = await sh(session, `i=0; while [ $i -lt ${tenths} ]; do [ -S ${shq(`${D}/agent.sock`)} ] && exit 0; sleep 0.1; i=$((i+1)); done; exit 1`, {
    signal: o.signal,
    timeoutMs: (o.waitMs ?? 10_000) + 30_000,
    allowFail: true,
  });
  if (wait.code !== 0) {
    const log = await sh(session, how === 'systemd' ? `journalctl -u ${UNIT} -n 15 --no-pager </dev/null 2>&1 || systemctl status ${UNIT} --no-pager 2>&1` : `tail -n 15 ${shq(`${D}/agent.log`)} 2>&1`, { allowFail: true });
    const tail = log.stdout.trim().split('\n').slice(-6).join(' | ');
    throw new ApiError('conflict', `the agent did not start on ${session.target.address} within ${Math.round((o.waitMs ?? 10_000) / 1000)} s${tail ? `: ${tail}` : ''}`, { reason: 'agent_start_failed', supervisor: how });
  }
  return how;
}

/** Stops the agent (systemd unit or supervisor) and removes its socket. Idempotent. */
export async function stopAgent(session: SshSession, dir: string, o: StepOptions = {}): Promise<void> {
  await sh(session, `${stopUnitScript}${stopSupervisorScript(dir)}\nrm -f ${shq(`${dir}/agent.sock`)}\nexit 0\n`, { signal: o.signal, what: 'stopping the agent' });
}

function checkDir(dir: string): void {
  // rm -rf on a path from the database: refuse anything that is not clearly an agent directory.
  if (!dir.startsWith('/') || !/skydeck/.test(dir) || dir.split('/').filter(Boolean).length < 2 || /(^|\/)\.\.(\/|$)/.test(dir)) {
    throw new ApiError('validation', `refusing to remove ${dir}: not an agent directory`, { reason: 'bad_dir' });
  }
}

/** Stops the agent, removes its systemd unit (if any) and deletes DIR entirely. Idempotent. */
export async function uninstallAgent(session: SshSession, dir: string, o: StepOptions = {}): Promise<void> {
  checkDir(dir);
  await stopAgent(session, dir, o);
  await sh(
    session,
    `if [ "$(id -u)" = 0 ] && [ -f ${UNIT_PATH} ] && grep -q ${shq(dir)} ${UNIT_PATH} 2>/dev/null; then
  systemctl disable ${UNIT} </dev/null 2>/dev/null || true
  rm -f ${UNIT_PATH}
  systemctl daemon-reload </dev/null 2>/dev/null || true
fi
rm -rf ${shq(dir)}
`,
    { signal: o.signal, what: `removing ${dir}` },
  );
}

export interface AgentStatus {
  installed: boolean;
  version: string | null;
  current: string | null;
  socket: boolean;
  running: 'systemd' | 'supervisor' | null;
}

/** What is installed in DIR and whether it runs (one exec). */
export async function agentStatus(session: SshSession, dir: string, o: StepOptions = {}): Promise<AgentStatus> {
  const p = await probeHost(session, { ...o, dir });
  return p.agent;
}
