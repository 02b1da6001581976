import { AGENT_PROTOCOL_VERSION } from '@shared/agent/protocol';
import { AGENT_VERSION } from './agent';
import { parseFlags, parseServe, SERVE_FLAG_NAMES, serveOptions, USAGE, UsageError } from './cli';
import { connectStdio } from './connect';
import { serve } from './serve';
import { supervise } from './supervise';
import { systemdUnit } from './systemd';

/** The agent's command line (see USAGE in cli.ts). */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(parseServe(rest));
    case 'supervise':
      return supervise(parseServe(rest));
    case 'connect': {
      const dir = parseFlags(rest, ['--dir']).get('--dir');
      if (!dir) throw new UsageError('--dir is required');
      return connectStdio(dir);
    }
    case 'systemd-unit': {
      const flags = parseFlags(rest, [...SERVE_FLAG_NAMES, '--node']);
      const node = flags.get('--node');
      if (!node) throw new UsageError('--node is required');
      flags.delete('--node');
      process.stdout.write(systemdUnit(serveOptions(flags), node));
      return;
    }
    case 'version':
      process.stdout.write(`${JSON.stringify({ agentVersion: AGENT_VERSION, protocol: AGENT_PROTOCOL_VERSION })}\n`);
      return;
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command given');
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`skydeck-agent: ${e.message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'fatal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) })}\n`);
  process.exit(1);
});
