import { connect as netConnect } from 'node:net';
import { agentPaths } from './paths';

/**
 * `connect`: relays stdin/stdout to the agent's socket, for an SSH exec channel where sshd refuses stream-local
 * forwarding. The agent takes a hang-up as "cancel what I left running", so when stdin ends the relay first waits for
 * the answers to the requests it passed on, then hangs up. Exit 1 (message on stderr) when the agent is not there.
 */
export function connectStdio(dir: string): void {
  const { socket: path } = agentPaths(dir);
  const sock = netConnect(path);
  const pending = new Set<string>();
  let inputEnded = false;
  const idsIn = (text: string, fn: (id: string) => void): void => {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const m = JSON.parse(line) as { id?: unknown; method?: unknown };
        if (typeof m.id === 'number' || typeof m.id === 'string') fn(`${typeof m.id}:${m.id}`);
      } catch {
        // not ours to judge: the agent answers parse errors itself
      }
    }
  };
  const maybeEnd = (): void => {
    if (inputEnded && pending.size === 0) sock.end();
  };

  let fromStdin = '';
  let fromAgent = '';
  sock.once('connect', () => {
    process.stdin.on('data', (d: Buffer) => {
      fromStdin += d.toString('utf8');
      const cut = fromStdin.lastIndexOf('\n') + 1;
      idsIn(fromStdin.slice(0, cut), (id) => pending.add(id));
      fromStdin = fromStdin.slice(cut);
      if (!sock.write(d)) process.stdin.pause();
    });
    sock.on('drain', () => process.stdin.resume());
    process.stdin.on('end', () => {
      inputEnded = true;
      maybeEnd();
    });
    sock.on('data', (d: Buffer) => {
      fromAgent += d.toString('utf8');
      const cut = fromAgent.lastIndexOf('\n') + 1;
      idsIn(fromAgent.slice(0, cut), (id) => pending.delete(id));
      fromAgent = fromAgent.slice(cut);
      if (!process.stdout.write(d)) sock.pause();
      maybeEnd();
    });
    process.stdout.on('drain', () => sock.resume());
  });
  sock.on('error', (e) => {
    process.stderr.write(`skydeck-agent connect: cannot reach ${path}: ${e.message}\n`);
    process.exit(1);
  });
  sock.on('close', () => process.exit(0));
  process.stdout.on('error', () => process.exit(0)); // the SSH channel is gone
}
