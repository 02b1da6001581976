import type { DomainState } from '@shared/agent/protocol';

/** Parsers for virsh's text output (run with LC_ALL=C and -q, so tables have no header). */

/** "Key:   value" lines (dominfo, pool-info, net-info, version) → lower-cased key → value. */
export function keyValues(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    m.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  return m;
}

const STATE_WORDS: [RegExp, DomainState][] = [
  [/^running/, 'running'],
  [/^(idle|blocked)/, 'blocked'],
  [/^paused/, 'paused'],
  [/^in shutdown|^shutdown/, 'shutdown'],
  [/^shut off|^shutoff/, 'shutoff'],
  [/^crashed/, 'crashed'],
  [/^pmsuspended/, 'pmsuspended'],
];

/** `domstate --reason` ("shut off (destroyed)", "in shutdown", "paused (user)") → normalised state and reason. */
export function domState(out: string): { state: DomainState; reason: string | null } {
  const line = out.trim().split('\n')[0]?.trim() ?? '';
  const m = /^(.*?)(?:\s*\((.*)\))?$/.exec(line);
  const word = (m?.[1] ?? line).toLowerCase();
  const state = STATE_WORDS.find(([re]) => re.test(word))?.[1] ?? 'unknown';
  const reason = m?.[2]?.trim() || null;
  return { state, reason: reason === 'unknown' ? null : reason };
}

/** virDomainState numbers, as domstats prints state.state. */
const STATE_NUMBERS: DomainState[] = ['unknown', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];
export const stateFromNumber = (n: number): DomainState => STATE_NUMBERS[n] ?? 'unknown';

/** `domstats --raw`: "Domain: 'name'" then indented key=value lines → name → stats. */
export function domStats(out: string): Map<string, Map<string, string>> {
  const all = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | null = null;
  for (const line of out.split('\n')) {
    const head = /^Domain: '(.*)'\s*$/.exec(line);
    if (head) {
      cur = new Map();
      all.set(head[1] ?? '', cur);
      continue;
    }
    const kv = /^\s+([^=\s]+)=(.*)$/.exec(line);
    if (kv && cur) cur.set(kv[1] ?? '', kv[2] ?? '');
  }
  return all;
}

/** `list --all --uuid --name`: "uuid name" per line. */
export function uuidNames(out: string): { uuid: string; name: string }[] {
  const r: { uuid: string; name: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s+(.+?)\s*$/i.exec(line);
    if (m) r.push({ uuid: (m[1] ?? '').toLowerCase(), name: m[2] ?? '' });
  }
  return r;
}

/** Non-empty trimmed lines (`--name` lists). */
export const lines = (out: string): string[] =>
  out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** `domifaddr`: " vnet0  52:54:00:…  ipv4  192.168.122.23/24"; a "-" name/MAC repeats the previous row's. */
export function domIfAddr(out: string): Map<string, string[]> {
  const byMac = new Map<string, string[]>();
  let mac = '';
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || !/^ipv[46]$/.test(cols[2] ?? '')) continue;
    if (cols[1] && cols[1] !== '-') mac = cols[1].toLowerCase();
    const addr = (cols[3] ?? '').replace(/\/\d+$/, '');
    if (!mac || !addr) continue;
    byMac.set(mac, [...(byMac.get(mac) ?? []), addr]);
  }
  return byMac;
}

/** `domblkinfo --all`: " vda  capacity  allocation  physical" → target → capacity bytes (null for "-"). */
export function domBlkInfoAll(out: string): Map<string, number | null> {
  const m = new Map<string, number | null>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 2 || cols[0] === 'Target' || /^-+$/.test(cols[0] ?? '')) continue;
    const cap = Number(cols[1]);
    m.set(cols[0] ?? '', Number.isFinite(cap) && /^\d+$/.test(cols[1] ?? '') ? cap : null);
  }
  return m;
}

/** `net-list --all` rows: name, active, autostart, persistent (matched from the right: names may hold spaces). */
export function netList(out: string): { name: string; active: boolean; autostart: boolean }[] {
  const r: { name: string; active: boolean; autostart: boolean }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(.+?)\s+(active|inactive)\s+(yes|no)\s+(yes|no)\s*$/.exec(line);
    if (m) r.push({ name: m[1] ?? '', active: m[2] === 'active', autostart: m[3] === 'yes' });
  }
  return r;
}

/** `pool-list --all` rows: name, state, autostart. */
export function poolList(out: string): { name: string; active: boolean; autostart: boolean }[] {
  const r: { name: string; active: boolean; autostart: boolean }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(.+?)\s+(active|inactive|building|degraded|inaccessible)\s+(yes|no)\s*$/.exec(line);
    if (m) r.push({ name: m[1] ?? '', active: m[2] === 'active', autostart: m[3] === 'yes' });
  }
  return r;
}

/** `vol-list POOL`: " name   /path" rows (virsh separates columns by at least two spaces). */
export function volList(out: string): { name: string; path: string }[] {
  const r: { name: string; path: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(.+?)\s{2,}(\S.*?)\s*$/.exec(line);
    if (m) r.push({ name: m[1] ?? '', path: m[2] ?? '' });
  }
  return r;
}
