import type Database from 'better-sqlite3';
import { PRICED_PROVIDERS, REPORT_SECTIONS, type Cell, type RateCard, type ReportChart, type ReportColumn, type ReportSpec } from '@shared/contract/reports';
import { fill, labels, type Labels, type Locale } from './labels';
import { resolvePeriod, shortTime, type ResolvedPeriod } from './period';
import { MetricsDb } from '../monitoring/store';

/** Makes the metrics store's pending samples part of metric_1h (a read-only snapshot has none it could write: skipped). */
function flushMetrics(db: Database.Database): void {
  try {
    MetricsDb.existing(db)?.flush();
  } catch {
    // read-only database: the samples since the last flush are left out
  }
}

/**
 * The report definitions: each section is one SQL query over the local database (never one query per row), streamed
 * row by row as arrays in column order, with a count for progress and a totals line where sums mean something.
 * Filters become WHERE clauses with bound parameters only; nothing a caller sends is spliced into SQL.
 */
export interface ReportContext {
  db: Database.Database;
  spec: ReportSpec;
  locale: Locale;
  now: Date;
  rateCard: RateCard;
  /** When this core is an opened snapshot: its time. */
  snapshotAt: string | null;
}

export interface SectionPlan {
  key: string;
  title: string;
  columns: ReportColumn[];
  count(): number;
  /** Rows in column order; iterate to the end or call return() (it holds a statement open). */
  rows(): IterableIterator<Cell[]>;
  footer(): Cell[] | null;
}

export interface BuiltReport {
  title: string;
  generatedAt: string;
  period: ResolvedPeriod | null;
  filters: string[];
  notes: string[];
  sections: SectionPlan[];
  charts(): ReportChart[];
  snapshotAt: string | null;
}

type ColumnKey = keyof Labels['col'];
interface ColumnDef {
  label: ColumnKey;
  type: ReportColumn['type'];
  /** SQL for the cell. */
  sql: string;
  /** SQL for the totals line: over the base rows (plain sections) or over the c0…cN aliases (grouped sections). */
  foot?: string;
}
interface SqlSection {
  key: string;
  columns: ColumnDef[];
  /** FROM … (joins), without WHERE. */
  from: string;
  where: Clause;
  groupBy?: string;
  orderBy: string;
  /** A WITH clause before the SELECT (its arguments are bound first). */
  with?: Clause;
  /** Arguments bound inside FROM (a JOIN's condition or subquery): after the WITH's, before the WHERE's. */
  fromArgs?: unknown[];
}
interface Clause {
  sql: string;
  args: unknown[];
}

const MONTH_DAYS = 365.25 / 12;
const CLOUD = PRICED_PROVIDERS.map((p) => `'${p}'`).join(', ');
const and = (...cs: Clause[]): Clause => {
  const parts = cs.filter((c) => c.sql);
  return { sql: parts.map((c) => `(${c.sql})`).join(' AND '), args: parts.flatMap((c) => c.args) };
};
const inList = (expr: string, values: readonly unknown[]): Clause => (values.length ? { sql: `${expr} IN (${values.map(() => '?').join(', ')})`, args: [...values] } : { sql: '', args: [] });
const tagsOf = (kind: string, id: string) => `(SELECT group_concat(key || '=' || value, '; ') FROM (SELECT key, value FROM tags WHERE kind = '${kind}' AND resource_id = ${id} ORDER BY key, source))`;

type FilterKind = 'host' | 'guest' | 'disk' | 'network';

/** The WHERE clause of a kind's rows for the report's filters (the period as "created in", when asked). */
function filterClause(kind: FilterKind, a: string, spec: ReportSpec, created: ResolvedPeriod | null): Clause {
  const f = spec.filters;
  const project =
    kind === 'host' && f.projects.length
      ? { sql: `EXISTS (SELECT 1 FROM guests gp WHERE gp.host_id = ${a}.id AND gp.project_id IN (${f.projects.map(() => '?').join(', ')}))`, args: [...f.projects] }
      : kind === 'host'
        ? { sql: '', args: [] }
        : inList(`${a}.project_id`, f.projects);
  const zoneExpr =
    kind === 'host'
      ? `${a}.zone_id`
      : kind === 'guest'
        ? `coalesce(${a}.zone_id, (SELECT zone_id FROM hosts WHERE id = ${a}.host_id))`
        : kind === 'disk'
          ? `coalesce((SELECT zone_id FROM storages WHERE id = ${a}.storage_id), (SELECT coalesce(gz.zone_id, (SELECT zone_id FROM hosts WHERE id = gz.host_id)) FROM guests gz WHERE gz.id = ${a}.guest_id))`
          : `(SELECT zone_id FROM wires WHERE id = ${a}.wire_id)`;
  const tags = f.tags.map((t): Clause => {
    const eq = t.indexOf('=');
    return eq < 0
      ? { sql: `EXISTS (SELECT 1 FROM tags t WHERE t.kind = '${kind}' AND t.resource_id = ${a}.id AND t.key = ?)`, args: [t] }
      : { sql: `EXISTS (SELECT 1 FROM tags t WHERE t.kind = '${kind}' AND t.resource_id = ${a}.id AND t.key = ? AND t.value = ?)`, args: [t.slice(0, eq), t.slice(eq + 1)] };
  });
  return and(
    project,
    inList(`${a}.provider`, f.providers),
    inList(zoneExpr, f.zones),
    ...tags,
    created ? { sql: `${a}.created_at >= ? AND ${a}.created_at < ?`, args: [created.from, created.to] } : { sql: '', args: [] },
  );
}

function plan(db: Database.Database, s: SqlSection, title: string, L: Labels): SectionPlan {
  const where = s.where.sql ? `WHERE ${s.where.sql}` : '';
  const withSql = s.with ? `WITH ${s.with.sql} ` : '';
  const withArgs = s.with?.args ?? [];
  const select = s.columns.map((c, i) => `${c.sql} AS c${i}`).join(', ');
  const body = `FROM ${s.from} ${where}${s.groupBy ? ` GROUP BY ${s.groupBy}` : ''}`;
  const main = `${withSql}SELECT ${select} ${body} ORDER BY ${s.orderBy}`;
  const args = [...withArgs, ...(s.fromArgs ?? []), ...s.where.args];
  const columns = s.columns.map((c) => ({ key: c.label, label: fill(L.col[c.label], {}), type: c.type }));
  return {
    key: s.key,
    title,
    columns,
    count() {
      const sql = s.groupBy ? `${withSql}SELECT count(*) AS n FROM (SELECT 1 ${body})` : `${withSql}SELECT count(*) AS n ${body}`;
      return (db.prepare(sql).get(...args) as { n: number }).n;
    },
    rows() {
      return db.prepare(main).raw(true).iterate(...args) as IterableIterator<Cell[]>;
    },
    footer() {
      if (!s.columns.some((c) => c.foot)) return null;
      const exprs = s.columns.map((c, i) => (i === 0 ? `'${L.total.replace(/'/g, "''")}'` : (c.foot ?? 'NULL')));
      const sql = s.groupBy
        ? `${withSql}SELECT ${exprs.join(', ')} FROM (SELECT ${select} ${body})`
        : `${withSql}SELECT ${exprs.join(', ')} ${body}`;
      return db.prepare(sql).raw(true).get(...args) as Cell[];
    },
  };
}

/** Currency placeholders in column labels. */
function currencyLabels(L: Labels, currency: string): Labels {
  const col = Object.fromEntries(Object.entries(L.col).map(([k, v]) => [k, fill(v, { c: currency })])) as Labels['col'];
  return { ...L, col };
}

export function buildReport(ctx: ReportContext): BuiltReport {
  const { db, spec } = ctx;
  const L = currencyLabels(labels(ctx.locale), ctx.rateCard.currency);
  const period = resolvePeriod(spec.type, spec.filters.period, ctx.now);
  const wanted = (spec.sections ?? REPORT_SECTIONS[spec.type]) as readonly string[];
  const order = REPORT_SECTIONS[spec.type] as readonly string[];
  const keys = order.filter((k) => wanted.includes(k));
  const sectionTitles = L.section[spec.type] as Record<string, string>;
  const notes: string[] = [];

  let defs: Record<string, () => SqlSection>;
  let charts: () => ReportChart[] = () => [];
  const created = spec.type === 'inventory' ? period : null;
  const round2 = (x: string) => `round(${x}, 2)`;

  switch (spec.type) {
    case 'inventory': {
      if (period) notes.push(L.note.inventoryPeriod);
      const gw = filterClause('guest', 'g', spec, created);
      defs = {
        hosts: () => ({
          key: 'hosts',
          from: 'hosts h LEFT JOIN zones z ON z.id = h.zone_id',
          where: filterClause('host', 'h', spec, created),
          orderBy: 'h.name, h.rowid',
          columns: [
            { label: 'name', type: 'text', sql: 'h.name' },
            { label: 'status', type: 'text', sql: 'h.status' },
            { label: 'provider', type: 'text', sql: 'h.provider' },
            { label: 'hypervisor', type: 'text', sql: 'h.hypervisor' },
            { label: 'zone', type: 'text', sql: 'z.name' },
            { label: 'address', type: 'text', sql: 'h.address' },
            { label: 'cpuModel', type: 'text', sql: 'h.cpu_model' },
            { label: 'cores', type: 'int', sql: 'h.cpu_cores', foot: 'sum(h.cpu_cores)' },
            { label: 'memoryGib', type: 'number', sql: round2('h.memory_mb / 1024.0'), foot: round2('sum(h.memory_mb) / 1024.0') },
            { label: 'storageGib', type: 'number', sql: round2('h.storage_gb'), foot: round2('sum(h.storage_gb)') },
            { label: 'guests', type: 'int', sql: 'h.guest_count', foot: 'sum(h.guest_count)' },
            { label: 'vcpuAllocated', type: 'int', sql: 'h.cpu_allocated', foot: 'sum(h.cpu_allocated)' },
            { label: 'memoryAllocatedGib', type: 'number', sql: round2('h.memory_allocated_mb / 1024.0'), foot: round2('sum(h.memory_allocated_mb) / 1024.0') },
            { label: 'storageAllocatedGib', type: 'number', sql: round2('h.storage_allocated_gb'), foot: round2('sum(h.storage_allocated_gb)') },
            { label: 'enabled', type: 'bool', sql: 'h.enabled' },
            { label: 'maintenance', type: 'bool', sql: 'h.maintenance' },
            { label: 'createdAt', type: 'date', sql: 'h.created_at' },
            { label: 'syncedAt', type: 'date', sql: 'h.synced_at' },
            { label: 'tags', type: 'text', sql: tagsOf('host', 'h.id') },
          ],
        }),
        guests: () => ({
          key: 'guests',
          from: 'guests g LEFT JOIN projects p ON p.id = g.project_id LEFT JOIN hosts h ON h.id = g.host_id LEFT JOIN zones z ON z.id = coalesce(g.zone_id, h.zone_id)',
          where: gw,
          orderBy: 'g.name, g.rowid',
          columns: [
            { label: 'name', type: 'text', sql: 'g.name' },
            { label: 'status', type: 'text', sql: 'g.status' },
            { label: 'provider', type: 'text', sql: 'g.provider' },
            { label: 'project', type: 'text', sql: 'p.name' },
            { label: 'host', type: 'text', sql: 'h.name' },
            { label: 'zone', type: 'text', sql: 'z.name' },
            { label: 'vcpu', type: 'int', sql: 'g.vcpu', foot: 'sum(g.vcpu)' },
            { label: 'memoryGib', type: 'number', sql: round2('g.memory_mb / 1024.0'), foot: round2('sum(g.memory_mb) / 1024.0') },
            { label: 'diskGib', type: 'number', sql: round2('g.disk_gb'), foot: round2('sum(g.disk_gb)') },
            { label: 'os', type: 'text', sql: 'g.os' },
            { label: 'instanceType', type: 'text', sql: 'g.instance_type' },
            { label: 'ips', type: 'text', sql: "replace(trim(g.ips), ' ', ', ')" },
            { label: 'createdAt', type: 'date', sql: 'g.created_at' },
            { label: 'tags', type: 'text', sql: tagsOf('guest', 'g.id') },
          ],
        }),
        disks: () => ({
          key: 'disks',
          from: 'disks d LEFT JOIN guests g ON g.id = d.guest_id LEFT JOIN projects p ON p.id = d.project_id LEFT JOIN storages s ON s.id = d.storage_id',
          where: filterClause('disk', 'd', spec, created),
          orderBy: 'd.name, d.rowid',
          columns: [
            { label: 'name', type: 'text', sql: 'd.name' },
            { label: 'status', type: 'text', sql: 'd.status' },
            { label: 'provider', type: 'text', sql: 'd.provider' },
            { label: 'guest', type: 'text', sql: 'g.name' },
            { label: 'project', type: 'text', sql: 'p.name' },
            { label: 'storage', type: 'text', sql: 's.name' },
            { label: 'sizeGib', type: 'number', sql: round2('d.size_gb'), foot: round2('sum(d.size_gb)') },
            { label: 'format', type: 'text', sql: 'd.format' },
            { label: 'bootable', type: 'bool', sql: 'd.bootable' },
            { label: 'createdAt', type: 'date', sql: 'd.created_at' },
            { label: 'tags', type: 'text', sql: tagsOf('disk', 'd.id') },
          ],
        }),
        networks: () => ({
          key: 'networks',
          from: `(SELECT n0.*, (SELECT count(*) FROM ip_allocations a WHERE a.network_id = n0.id) AS used, n0.ip_end_int - n0.ip_start_int + 1 AS size FROM networks n0) n
                 LEFT JOIN wires w ON w.id = n.wire_id LEFT JOIN zones z ON z.id = w.zone_id LEFT JOIN projects p ON p.id = n.project_id`,
          where: filterClause('network', 'n', spec, created),
          orderBy: 'n.name, n.id',
          columns: [
            { label: 'name', type: 'text', sql: 'n.name' },
            { label: 'cidr', type: 'text', sql: 'n.cidr' },
            { label: 'vlan', type: 'int', sql: 'n.vlan' },
            { label: 'gateway', type: 'text', sql: 'n.gateway' },
            { label: 'zone', type: 'text', sql: 'z.name' },
            { label: 'wire', type: 'text', sql: 'w.name' },
            { label: 'project', type: 'text', sql: 'p.name' },
            { label: 'ipRange', type: 'text', sql: "n.ip_start || ' - ' || n.ip_end" },
            { label: 'ipsTotal', type: 'int', sql: 'n.size', foot: 'sum(n.size)' },
            { label: 'ipsUsed', type: 'int', sql: 'n.used', foot: 'sum(n.used)' },
            { label: 'ipsFree', type: 'int', sql: 'n.size - n.used', foot: 'sum(n.size - n.used)' },
            { label: 'ipsUsedPct', type: 'percent', sql: 'round(100.0 * n.used / max(n.size, 1), 1)', foot: 'round(100.0 * sum(n.used) / max(sum(n.size), 1), 1)' },
            { label: 'tags', type: 'text', sql: tagsOf('network', 'n.id') },
          ],
        }),
        cloud: () => ({
          key: 'cloud',
          // EIPs counted per guest once (an aggregate joined in), not by a subquery per group.
          from: `guests g JOIN cloud_accounts ca ON ca.id = g.cloud_account_id LEFT JOIN zones z ON z.id = g.zone_id LEFT JOIN regions r ON r.id = z.region_id
                 LEFT JOIN (SELECT guest_id, count(*) AS n FROM eips WHERE guest_id IS NOT NULL GROUP BY guest_id) e ON e.guest_id = g.id`,
          where: gw,
          groupBy: 'ca.id, r.id',
          orderBy: 'ca.name, r.name',
          columns: [
            { label: 'account', type: 'text', sql: 'ca.name' },
            { label: 'provider', type: 'text', sql: 'ca.provider' },
            { label: 'region', type: 'text', sql: 'r.name' },
            { label: 'instances', type: 'int', sql: 'count(*)', foot: 'sum(c3)' },
            { label: 'running', type: 'int', sql: "sum(g.status = 'running')", foot: 'sum(c4)' },
            { label: 'vcpu', type: 'int', sql: 'sum(g.vcpu)', foot: 'sum(c5)' },
            { label: 'memoryGib', type: 'number', sql: round2('sum(g.memory_mb) / 1024.0'), foot: round2('sum(c6)') },
            { label: 'diskGib', type: 'number', sql: round2('sum(g.disk_gb)'), foot: round2('sum(c7)') },
            { label: 'eips', type: 'int', sql: 'coalesce(sum(e.n), 0)', foot: 'sum(c8)' },
          ],
        }),
      };
      charts = () => {
        const out: ReportChart[] = [];
        const byProvider = db
          .prepare(`SELECT g.provider AS k, count(*) AS n FROM guests g ${gw.sql ? `WHERE ${gw.sql}` : ''} GROUP BY g.provider ORDER BY n DESC`)
          .all(...gw.args) as { k: string; n: number }[];
        if (byProvider.length) out.push({ key: 'guestsByProvider', title: L.chart.guestsByProvider, unit: '', categories: byProvider.map((r) => r.k), series: [{ label: L.chart.guests, values: byProvider.map((r) => r.n) }] });
        const nw = filterClause('network', 'n', spec, created);
        const nets = db
          .prepare(
            `SELECT n.name AS k, (SELECT count(*) FROM ip_allocations a WHERE a.network_id = n.id) AS used, n.ip_end_int - n.ip_start_int + 1 AS size
               FROM networks n ${nw.sql ? `WHERE ${nw.sql}` : ''} ORDER BY 1.0 * used / max(size, 1) DESC, n.name LIMIT 12`,
          )
          .all(...nw.args) as { k: string; used: number; size: number }[];
        if (nets.length)
          out.push({ key: 'ipUsage', title: L.chart.ipUsage, unit: '%', categories: nets.map((r) => r.k), series: [{ label: L.chart.used, values: nets.map((r) => Math.round((1000 * r.used) / Math.max(r.size, 1)) / 10) }] });
        return out;
      };
      break;
    }
    case 'capacity': {
      // Use from monitoring (hourly rollups): over the report's period, else the last 7 days.
      const useWindow = period ?? { from: new Date(ctx.now.getTime() - 7 * 86_400_000).toISOString(), to: ctx.now.toISOString() };
      notes.push(L.note.monitoring.replace('{from}', useWindow.from.slice(0, 16).replace('T', ' ')).replace('{to}', useWindow.to.slice(0, 16).replace('T', ' ')));
      if (spec.filters.period) notes.push(L.note.capacityPeriod);
      // With a project filter, allocation counts only those projects' guests (summed per host); else the hosts' own
      // allocation columns, which triggers keep in step with their guests.
      const byProject = spec.filters.projects.length > 0;
      const allocJoin = byProject
        ? `LEFT JOIN (SELECT host_id, sum(vcpu) AS vcpu, sum(memory_mb) AS memory_mb, sum(disk_gb) AS disk_gb, count(*) AS n FROM guests WHERE project_id IN (${spec.filters.projects.map(() => '?').join(', ')}) GROUP BY host_id) a ON a.host_id = h.id`
        : '';
      const A = byProject
        ? { vcpu: 'coalesce(a.vcpu, 0)', mem: 'coalesce(a.memory_mb, 0)', disk: 'coalesce(a.disk_gb, 0)', n: 'coalesce(a.n, 0)' }
        : { vcpu: 'h.cpu_allocated', mem: 'h.memory_allocated_mb', disk: 'h.storage_allocated_gb', n: 'h.guest_count' };
      const allocArgs = byProject ? [...spec.filters.projects] : [];
      const hw = filterClause('host', 'h', spec, null);
      const pct = (num: string, den: string) => `round(100.0 * ${num} / nullif(${den}, 0), 1)`;
      defs = {
        zones: () => ({
          key: 'zones',
          from: `hosts h LEFT JOIN zones z ON z.id = h.zone_id ${allocJoin}`,
          fromArgs: allocArgs,
          where: hw,
          groupBy: 'h.zone_id',
          orderBy: 'z.name',
          columns: [
            { label: 'zone', type: 'text', sql: `coalesce(z.name, '${L.none.replace(/'/g, "''")}')` },
            { label: 'hosts', type: 'int', sql: 'count(*)', foot: 'sum(c1)' },
            { label: 'cores', type: 'int', sql: 'sum(h.cpu_cores)', foot: 'sum(c2)' },
            { label: 'vcpuAllocated', type: 'int', sql: `sum(${A.vcpu})`, foot: 'sum(c3)' },
            { label: 'vcpuLimit', type: 'int', sql: 'CAST(round(sum(h.cpu_cores * h.cpu_overcommit)) AS INTEGER)', foot: 'sum(c4)' },
            { label: 'cpuPct', type: 'percent', sql: pct(`sum(${A.vcpu})`, 'sum(h.cpu_cores)'), foot: pct('sum(c3)', 'sum(c2)') },
            { label: 'memoryGib', type: 'number', sql: round2('sum(h.memory_mb) / 1024.0'), foot: round2('sum(c6)') },
            { label: 'memoryAllocatedGib', type: 'number', sql: round2(`sum(${A.mem}) / 1024.0`), foot: round2('sum(c7)') },
            { label: 'memoryPct', type: 'percent', sql: pct(`sum(${A.mem})`, 'sum(h.memory_mb)'), foot: pct('sum(c7)', 'sum(c6)') },
            { label: 'storageGib', type: 'number', sql: round2('sum(h.storage_gb)'), foot: round2('sum(c9)') },
            { label: 'storageAllocatedGib', type: 'number', sql: round2(`sum(${A.disk})`), foot: round2('sum(c10)') },
            { label: 'storagePct', type: 'percent', sql: pct(`sum(${A.disk})`, 'sum(h.storage_gb)'), foot: pct('sum(c10)', 'sum(c9)') },
            { label: 'guests', type: 'int', sql: `sum(${A.n})`, foot: 'sum(c12)' },
          ],
        }),
        hosts: () => (flushMetrics(db), {
          key: 'hosts',
          // Average and peak use per host from the 1-hour rollups of monitoring (blank where nothing was collected);
          // flushMetrics first folds the samples still pending in the metrics store into metric_1h.
          from: `hosts h LEFT JOIN zones z ON z.id = h.zone_id ${allocJoin}
                 LEFT JOIN (SELECT s.resource_id AS host_id,
                                   sum(CASE WHEN s.metric = 'cpu.util' THEN m.sum END) / sum(CASE WHEN s.metric = 'cpu.util' THEN m.count END) AS cpu_avg,
                                   max(CASE WHEN s.metric = 'cpu.util' THEN m.max END) AS cpu_peak,
                                   sum(CASE WHEN s.metric = 'mem.util' THEN m.sum END) / sum(CASE WHEN s.metric = 'mem.util' THEN m.count END) AS mem_avg,
                                   max(CASE WHEN s.metric = 'mem.util' THEN m.max END) AS mem_peak
                              FROM metric_series s JOIN metric_1h m ON m.series_id = s.id
                             WHERE s.kind = 'host' AND s.metric IN ('cpu.util', 'mem.util') AND m.ts >= ? AND m.ts < ?
                             GROUP BY s.resource_id) mu ON mu.host_id = h.id`,
          fromArgs: [...allocArgs, Date.parse(useWindow.from), Date.parse(useWindow.to)],
          where: hw,
          orderBy: 'h.name, h.rowid',
          columns: [
            { label: 'host', type: 'text', sql: 'h.name' },
            { label: 'zone', type: 'text', sql: 'z.name' },
            { label: 'status', type: 'text', sql: 'h.status' },
            { label: 'cores', type: 'int', sql: 'h.cpu_cores', foot: 'sum(h.cpu_cores)' },
            { label: 'overcommit', type: 'number', sql: 'h.cpu_overcommit' },
            { label: 'vcpuAllocated', type: 'int', sql: A.vcpu, foot: `sum(${A.vcpu})` },
            { label: 'cpuPct', type: 'percent', sql: pct(A.vcpu, 'h.cpu_cores'), foot: pct(`sum(${A.vcpu})`, 'sum(h.cpu_cores)') },
            { label: 'memoryGib', type: 'number', sql: round2('h.memory_mb / 1024.0'), foot: round2('sum(h.memory_mb) / 1024.0') },
            { label: 'memoryAllocatedGib', type: 'number', sql: round2(`${A.mem} / 1024.0`), foot: round2(`sum(${A.mem}) / 1024.0`) },
            { label: 'memoryPct', type: 'percent', sql: pct(A.mem, 'h.memory_mb'), foot: pct(`sum(${A.mem})`, 'sum(h.memory_mb)') },
            { label: 'storageGib', type: 'number', sql: round2('h.storage_gb'), foot: round2('sum(h.storage_gb)') },
            { label: 'storageAllocatedGib', type: 'number', sql: round2(A.disk), foot: round2(`sum(${A.disk})`) },
            { label: 'storagePct', type: 'percent', sql: pct(A.disk, 'h.storage_gb'), foot: pct(`sum(${A.disk})`, 'sum(h.storage_gb)') },
            { label: 'guests', type: 'int', sql: A.n, foot: `sum(${A.n})` },
            { label: 'cpuUseAvg', type: 'percent', sql: 'round(mu.cpu_avg, 1)' },
            { label: 'cpuUsePeak', type: 'percent', sql: 'round(mu.cpu_peak, 1)' },
            { label: 'memoryUseAvg', type: 'percent', sql: 'round(mu.mem_avg, 1)' },
            { label: 'memoryUsePeak', type: 'percent', sql: 'round(mu.mem_peak, 1)' },
          ],
        }),
        projects: () => {
          const g = filterClause('guest', 'g', { ...spec, filters: { ...spec.filters, projects: [] } }, null);
          return {
            key: 'projects',
            from: `projects p LEFT JOIN guests g ON g.project_id = p.id${g.sql ? ` AND ${g.sql}` : ''}`,
            fromArgs: g.args,
            where: inList('p.id', spec.filters.projects),
            groupBy: 'p.id',
            orderBy: 'p.name',
            columns: [
              { label: 'project', type: 'text', sql: 'p.name' },
              { label: 'guests', type: 'int', sql: 'count(g.id)', foot: 'sum(c1)' },
              { label: 'vcpu', type: 'int', sql: 'coalesce(sum(g.vcpu), 0)', foot: 'sum(c2)' },
              { label: 'memoryGib', type: 'number', sql: round2('coalesce(sum(g.memory_mb), 0) / 1024.0'), foot: round2('sum(c3)') },
              { label: 'diskGib', type: 'number', sql: round2('coalesce(sum(g.disk_gb), 0)'), foot: round2('sum(c4)') },
              { label: 'quotaVcpu', type: 'int', sql: 'p.quota_vcpu' },
              { label: 'quotaMemoryGib', type: 'number', sql: round2('p.quota_memory_mb / 1024.0') },
              { label: 'quotaStorageGib', type: 'number', sql: 'p.quota_storage_gb' },
              { label: 'hostsUsed', type: 'int', sql: 'count(DISTINCT g.host_id)' },
            ],
          };
        },
      };
      charts = () => {
        const rows = db
          .prepare(
            `SELECT coalesce(z.name, ?) AS k, ${pct(`sum(${A.vcpu})`, 'sum(h.cpu_cores)')} AS cpu, ${pct(`sum(${A.mem})`, 'sum(h.memory_mb)')} AS mem, ${pct(`sum(${A.disk})`, 'sum(h.storage_gb)')} AS disk
               FROM hosts h LEFT JOIN zones z ON z.id = h.zone_id ${allocJoin} ${hw.sql ? `WHERE ${hw.sql}` : ''} GROUP BY h.zone_id ORDER BY count(*) DESC, z.name LIMIT 16`,
          )
          .all(L.none, ...(byProject ? spec.filters.projects : []), ...hw.args) as { k: string; cpu: number | null; mem: number | null; disk: number | null }[];
        return rows.length
          ? [{ key: 'allocationByZone', title: L.chart.allocationByZone, unit: '%', categories: rows.map((r) => r.k), series: [
              { label: L.chart.cpu, values: rows.map((r) => r.cpu ?? 0) },
              { label: L.chart.memory, values: rows.map((r) => r.mem ?? 0) },
              { label: L.chart.storage, values: rows.map((r) => r.disk ?? 0) },
            ] }]
          : [];
      };
      break;
    }
    case 'changes': {
      const f = spec.filters;
      if (f.projects.length || f.providers.length || f.zones.length || f.tags.length) notes.push(L.note.changesFilters);
      const w: Clause = { sql: 'a.at >= ? AND a.at < ?', args: [period!.from, period!.to] };
      defs = {
        summary: () => ({
          key: 'summary',
          from: 'audit_log a',
          where: w,
          groupBy: 'a.action',
          orderBy: 'count(*) DESC, a.action',
          columns: [
            { label: 'action', type: 'text', sql: 'a.action' },
            { label: 'changes', type: 'int', sql: 'count(*)', foot: 'sum(c1)' },
            { label: 'errors', type: 'int', sql: "sum(a.result = 'error')", foot: 'sum(c2)' },
            { label: 'first', type: 'date', sql: 'min(a.at)' },
            { label: 'last', type: 'date', sql: 'max(a.at)' },
          ],
        }),
        changes: () => ({
          key: 'changes',
          from: 'audit_log a',
          where: w,
          orderBy: 'a.at, a.id',
          columns: [
            { label: 'at', type: 'date', sql: 'a.at' },
            { label: 'actor', type: 'text', sql: 'a.actor' },
            { label: 'action', type: 'text', sql: 'a.action' },
            { label: 'target', type: 'text', sql: 'a.target' },
            { label: 'result', type: 'text', sql: 'a.result' },
            { label: 'errorCode', type: 'text', sql: 'a.error_code' },
            { label: 'message', type: 'text', sql: 'a.message' },
            { label: 'params', type: 'text', sql: "CASE WHEN a.params IN ('{}', '') THEN NULL ELSE a.params END" },
          ],
        }),
      };
      charts = () => {
        const rows = db.prepare(`SELECT substr(a.at, 1, 10) AS k, count(*) AS n FROM audit_log a WHERE ${w.sql} GROUP BY k ORDER BY k`).all(...w.args) as { k: string; n: number }[];
        return rows.length ? [{ key: 'changesPerDay', title: L.chart.changesPerDay, unit: '', categories: rows.map((r) => r.k), series: [{ label: L.chart.changes, values: rows.map((r) => r.n) }] }] : [];
      };
      break;
    }
    case 'cost': {
      const rc = ctx.rateCard;
      if (rc.vcpuMonth === 0 && rc.memoryGbMonth === 0 && rc.diskGbMonth === 0) notes.push(L.note.rateCardUnset);
      notes.push(L.note.costBasis);
      const gw = filterClause('guest', 'g', spec, null);
      const now = ctx.now.toISOString();
      // One row per guest charged in the period: its days in it (since it was created, until now), its own-host costs
      // from the rate card, or its cloud price per hour (the region's own, else the provider's price for every region).
      const gc: Clause = {
        sql: `gc AS (
          SELECT g.id, g.name, g.project_id, g.provider, g.vcpu, g.memory_mb, g.disk_gb, g.instance_type, g.rowid AS rid,
                 CASE WHEN g.provider IN (${CLOUD}) THEN 1 ELSE 0 END AS cloud,
                 CASE WHEN g.provider IN (${CLOUD}) THEN r.name ELSE h.name END AS place,
                 coalesce(p1.hourly, p2.hourly) AS hourly,
                 max(0, min(julianday(?), julianday(?)) - max(julianday(?), julianday(g.created_at))) AS days
            FROM guests g LEFT JOIN hosts h ON h.id = g.host_id LEFT JOIN zones z ON z.id = g.zone_id LEFT JOIN regions r ON r.id = z.region_id
            LEFT JOIN cloud_prices p1 ON p1.provider = g.provider AND p1.region = r.name AND p1.instance_type = g.instance_type
            LEFT JOIN cloud_prices p2 ON p2.provider = g.provider AND p2.region = '' AND p2.instance_type = g.instance_type
            ${gw.sql ? `WHERE ${gw.sql}` : ''}
        ), gx AS (
          SELECT gc.*,
                 CASE WHEN cloud = 0 THEN vcpu * ? * days / ${MONTH_DAYS} ELSE 0 END AS vc,
                 CASE WHEN cloud = 0 THEN memory_mb / 1024.0 * ? * days / ${MONTH_DAYS} ELSE 0 END AS mc,
                 CASE WHEN cloud = 0 THEN disk_gb * ? * days / ${MONTH_DAYS} ELSE 0 END AS dc,
                 CASE WHEN cloud = 1 THEN hourly * days * 24 END AS cc
            FROM gc WHERE days > 0
        )`,
        args: [period!.to, now, period!.from, ...gw.args, rc.vcpuMonth, rc.memoryGbMonth, rc.diskGbMonth],
      };
      const unpriced = (db.prepare(`WITH ${gc.sql} SELECT count(*) AS n FROM gx WHERE cloud = 1 AND hourly IS NULL`).get(...gc.args) as { n: number }).n;
      if (unpriced > 0) notes.push(fill(L.note.unpriced, { n: unpriced }));
      defs = {
        projects: () => ({
          key: 'projects',
          with: gc,
          from: 'gx LEFT JOIN projects p ON p.id = gx.project_id',
          where: { sql: '', args: [] },
          groupBy: 'gx.project_id',
          orderBy: 'c12 DESC, p.name',
          columns: [
            { label: 'project', type: 'text', sql: `coalesce(p.name, '${L.none.replace(/'/g, "''")}')` },
            { label: 'ownGuests', type: 'int', sql: 'sum(1 - cloud)', foot: 'sum(c1)' },
            { label: 'vcpu', type: 'int', sql: 'sum(CASE WHEN cloud = 0 THEN vcpu ELSE 0 END)', foot: 'sum(c2)' },
            { label: 'memoryGib', type: 'number', sql: round2('sum(CASE WHEN cloud = 0 THEN memory_mb ELSE 0 END) / 1024.0'), foot: round2('sum(c3)') },
            { label: 'diskGib', type: 'number', sql: round2('sum(CASE WHEN cloud = 0 THEN disk_gb ELSE 0 END)'), foot: round2('sum(c4)') },
            { label: 'vcpuCost', type: 'money', sql: round2('sum(vc)'), foot: round2('sum(c5)') },
            { label: 'memoryCost', type: 'money', sql: round2('sum(mc)'), foot: round2('sum(c6)') },
            { label: 'diskCost', type: 'money', sql: round2('sum(dc)'), foot: round2('sum(c7)') },
            { label: 'ownCost', type: 'money', sql: round2('sum(vc + mc + dc)'), foot: round2('sum(c8)') },
            { label: 'cloudInstances', type: 'int', sql: 'sum(cloud)', foot: 'sum(c9)' },
            { label: 'priced', type: 'int', sql: 'sum(cloud = 1 AND hourly IS NOT NULL)', foot: 'sum(c10)' },
            { label: 'cloudCost', type: 'money', sql: round2('coalesce(sum(cc), 0)'), foot: round2('sum(c11)') },
            { label: 'totalCost', type: 'money', sql: round2('sum(vc + mc + dc) + coalesce(sum(cc), 0)'), foot: round2('sum(c12)') },
          ],
        }),
        guests: () => ({
          key: 'guests',
          with: gc,
          from: 'gx LEFT JOIN projects p ON p.id = gx.project_id',
          where: { sql: '', args: [] },
          orderBy: 'p.name, gx.name, gx.rid',
          columns: [
            { label: 'guest', type: 'text', sql: 'gx.name' },
            { label: 'project', type: 'text', sql: 'p.name' },
            { label: 'provider', type: 'text', sql: 'gx.provider' },
            { label: 'where', type: 'text', sql: 'gx.place' },
            { label: 'instanceType', type: 'text', sql: 'gx.instance_type' },
            { label: 'vcpu', type: 'int', sql: 'gx.vcpu', foot: 'sum(gx.vcpu)' },
            { label: 'memoryGib', type: 'number', sql: round2('gx.memory_mb / 1024.0'), foot: round2('sum(gx.memory_mb) / 1024.0') },
            { label: 'diskGib', type: 'number', sql: round2('gx.disk_gb'), foot: round2('sum(gx.disk_gb)') },
            { label: 'days', type: 'number', sql: round2('gx.days') },
            { label: 'hourly', type: 'money', sql: 'gx.hourly' },
            { label: 'cost', type: 'money', sql: round2('CASE WHEN cloud = 1 THEN cc ELSE vc + mc + dc END'), foot: round2('sum(round(CASE WHEN cloud = 1 THEN cc ELSE vc + mc + dc END, 2))') },
          ],
        }),
      };
      charts = () => {
        const rows = db
          .prepare(`WITH ${gc.sql} SELECT coalesce(p.name, ?) AS k, round(sum(vc + mc + dc), 2) AS own, round(coalesce(sum(cc), 0), 2) AS cloud FROM gx LEFT JOIN projects p ON p.id = gx.project_id GROUP BY gx.project_id ORDER BY own + cloud DESC, k LIMIT 12`)
          .all(...gc.args, L.none) as { k: string; own: number; cloud: number }[];
        return rows.length
          ? [{ key: 'costByProject', title: L.chart.costByProject, unit: rc.currency, categories: rows.map((r) => r.k), series: [{ label: L.chart.own, values: rows.map((r) => r.own) }, { label: L.chart.cloud, values: rows.map((r) => r.cloud) }] }]
          : [];
      };
      break;
    }
  }

  const sections = keys.map((k) => plan(db, defs[k]!(), sectionTitles[k] ?? k, L));

  const filters = describeFilters(db, spec, L);
  return { title: L.title[spec.type], generatedAt: ctx.now.toISOString(), period, filters, notes, sections, charts, snapshotAt: ctx.snapshotAt };
}

function describeFilters(db: Database.Database, spec: ReportSpec, L: Labels): string[] {
  const f = spec.filters;
  const names = (table: string, ids: string[]) =>
    ids.length ? (db.prepare(`SELECT coalesce(name, id) AS n FROM ${table} WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY name`).all(...ids) as { n: string }[]).map((r) => r.n) : [];
  const parts: string[] = [];
  if (f.projects.length) parts.push(`${L.filter.projects}: ${names('projects', f.projects).join(', ') || f.projects.join(', ')}`);
  if (f.providers.length) parts.push(`${L.filter.providers}: ${f.providers.join(', ')}`);
  if (f.zones.length) parts.push(`${L.filter.zones}: ${names('zones', f.zones).join(', ') || f.zones.join(', ')}`);
  if (f.tags.length) parts.push(`${L.filter.tags}: ${f.tags.join(', ')}`);
  return parts.length ? [fill(L.filtersLine, { text: parts.join('; ') })] : [L.noFilters];
}

/** Header lines every format prints: generated, period, snapshot, filters. */
export function headerLines(r: BuiltReport, locale: Locale): string[] {
  const L = labels(locale);
  return [
    fill(L.generated, { at: `${shortTime(r.generatedAt)} UTC` }),
    ...(r.period ? [fill(L.periodLine, { from: `${shortTime(r.period.from)} UTC`, to: `${shortTime(r.period.to)} UTC` })] : []),
    ...(r.snapshotAt ? [fill(L.snapshotLine, { at: `${shortTime(r.snapshotAt)} UTC` })] : []),
    ...r.filters,
  ];
}
