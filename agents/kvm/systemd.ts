import { serveArgv, type ServeOptions } from './cli';
import { agentPaths, EXIT_NO_RESTART } from './paths';

/** One word of an ExecStart line: systemd's own quoting (double quotes, backslash escapes; % and $ doubled). */
export function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The unit the app installs as /etc/systemd/system/skydeck-agent.service where systemd runs. */
export function systemdUnit(o: ServeOptions, nodePath: string): string {
  const p = agentPaths(o.dir);
  const exec = [nodePath, p.bundle, 'serve', '--dir', p.dir, ...serveArgv(o), '--supervisor', 'systemd'].map(systemdQuote).join(' ');
  return `[Unit]
Description=Skydeck host agent
After=network.target libvirtd.service virtqemud.service

[Service]
Type=simple
ExecStart=${exec}
Restart=always
RestartSec=2
# agent.shutdown exits ${EXIT_NO_RESTART}: a deliberate stop, not a failure to recover from.
RestartPreventExitStatus=${EXIT_NO_RESTART}
SuccessExitStatus=${EXIT_NO_RESTART}
KillMode=mixed
TimeoutStopSec=15

[Install]
WantedBy=multi-user.target
`;
}
