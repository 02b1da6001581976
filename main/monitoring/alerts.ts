import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import type { z } from 'zod';
import type { AlertRule, alertRuleInput, alertScopeSchema, alertSchema, channelsSchema } from '@shared/contract/alerts';
import type { PlatformPort } from '../platform/port';
import type { Logger } from '../log/logger';
import type { Vault } from '../vault/vault';
import { sendSmtp } from '../notify/smtp';
import { MetricsDb } from './store';

type RuleInput = z.output<typeof alertRuleInput>;
type Scope = z.output<typeof alertScopeSchema>;
type Channels = z.output<typeof channelsSchema>;
type Alert = z.output<typeof alertSchema>;

const SMTP_SECRET = 'alerts-smtp-password';
export const HOST_OFFLINE_RULE = 'builtin-host-offline';
export const AGENT_LOST_RULE = 'builtin-agent-lost';
/** Host statuses each built-in rule watches: the host cannot be reached over SSH, or it can but its agent is gone. */
const BUILTIN_STATUSES: Record<string, string[]> = { 'host.offline': ['unreachable'], 'agent.lost': ['offline'] };
const isBuiltinMetric = (m: string) => m in BUILTIN_STATUSES;
/** A series with no sample for this long is not evaluated (its host being offline is the built-in rule's business). */
const STALE_MS = 10 * 60_000;

interface RuleRow {
  id: string;
  name: string;
  kind: 'host' | 'guest';
  metric: string;
  scope: string;
  condition: '>' | '>=' | '<' | '<=';
  threshold: number;
  duration_s: number;
  severity: 'info' | 'warning' | 'critical';
  channels: string;
  enabled: number;
  builtin: number;
  created_at: string;
  updated_at: string;
}

const toRule = (r: RuleRow): AlertRule => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  metric: r.metric,
  scope: JSON.parse(r.scope) as Scope,
  condition: r.condition,
  threshold: r.threshold,
  durationSeconds: r.duration_s,
  severity: r.severity,
  channels: JSON.parse(r.channels) as AlertRule['channels'],
  enabled: r.enabled === 1,
  builtin: r.builtin === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const holds = (cond: RuleRow['condition'], v: number, t: number): boolean => (cond === '>' ? v > t : cond === '>=' ? v >= t : cond === '<' ? v < t : v <= t);

export interface AlertEngineOptions {
  db: Database.Database;
  vault: Vault;
  platform: PlatformPort;
  logger: Logger;
}

/**
 * Alert rules and their evaluation. A metric rule fires for a resource once every raw sample of the last `duration`
 * satisfied the condition (and the series is at least that old); it resolves when the newest sample no longer does.
 * State lives in the `alerts` table (an open row = firing), so a restart neither forgets nor re-sends an alert.
 */
export class AlertEngine {
  private readonly log: Logger;
  private readonly offlineSince = new Map<string, number>();
  private evaluating: Promise<{ fired: number; resolved: number }> | null = null;

  constructor(private readonly o: AlertEngineOptions) {
    this.log = o.logger.scope('alerts');
    const now = new Date().toISOString();
    const builtin = o.db.prepare(
      `INSERT OR IGNORE INTO alert_rules (id, name, kind, metric, scope, condition, threshold, duration_s, severity, channels, enabled, builtin, created_at, updated_at)
       VALUES (?, ?, 'host', ?, '{"type":"all"}', '>=', 1, 60, ?, '["desktop"]', 1, 1, ?, ?)`,
    );
    builtin.run(HOST_OFFLINE_RULE, 'Host offline', 'host.offline', 'critical', now, now);
    builtin.run(AGENT_LOST_RULE, 'Agent lost', 'agent.lost', 'warning', now, now);
  }

  rules(): AlertRule[] {
    return (this.o.db.prepare('SELECT * FROM alert_rules ORDER BY builtin DESC, name').all() as RuleRow[]).map(toRule);
  }

  rule(id: string): AlertRule {
    const r = this.o.db.prepare('SELECT * FROM alert_rules WHERE id = ?').get(id) as RuleRow | undefined;
    if (!r) throw new ApiError('not_found', `no alert rule ${id}`, { id });
    return toRule(r);
  }

  create(input: RuleInput): AlertRule {
    if (isBuiltinMetric(input.metric)) throw new ApiError('validation', `metric: ${input.metric} is a built-in rule; change its threshold, duration or channels instead`, { issues: [{ path: 'metric', message: 'built-in only', code: 'invalid' }] });
    const id = `ar-${randomBytes(8).toString('hex')}`;
    const now = new Date().toISOString();
    this.o.db
      .prepare(
        `INSERT INTO alert_rules (id, name, kind, metric, scope, condition, threshold, duration_s, severity, channels, enabled, builtin, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
      )
      .run(id, input.name, input.kind, input.metric, JSON.stringify(input.scope), input.condition, input.threshold, input.durationSeconds, input.severity, JSON.stringify(input.channels), input.enabled ? 1 : 0, now, now);
    return this.rule(id);
  }

  update(id: string, input: RuleInput): AlertRule {
    const cur = this.rule(id);
    if (cur.builtin && (input.metric !== cur.metric || input.kind !== cur.kind)) throw new ApiError('conflict', 'a built-in rule keeps its metric');
    if (!cur.builtin && isBuiltinMetric(input.metric)) throw new ApiError('validation', `metric: ${input.metric} is a built-in rule`, { issues: [{ path: 'metric', message: 'built-in only', code: 'invalid' }] });
    this.o.db
      .prepare('UPDATE alert_rules SET name = ?, kind = ?, metric = ?, scope = ?, condition = ?, threshold = ?, duration_s = ?, severity = ?, channels = ?, enabled = ?, updated_at = ? WHERE id = ?')
      .run(input.name, input.kind, input.metric, JSON.stringify(input.scope), input.condition, input.threshold, input.durationSeconds, input.severity, JSON.stringify(input.channels), input.enabled ? 1 : 0, new Date().toISOString(), id);
    return this.rule(id);
  }

  delete(id: string): void {
    if (this.rule(id).builtin) throw new ApiError('conflict', 'built-in rules cannot be deleted; disable it instead');
    this.o.db.prepare('DELETE FROM alert_rules WHERE id = ?').run(id);
  }

  list(state: 'firing' | 'resolved' | 'all', limit: number): Alert[] {
    const where = state === 'firing' ? 'WHERE a.resolved_at IS NULL' : state === 'resolved' ? 'WHERE a.resolved_at IS NOT NULL' : '';
    const rows = this.o.db
      .prepare(`SELECT a.*, r.name AS rule_name FROM alerts a LEFT JOIN alert_rules r ON r.id = a.rule_id ${where} ORDER BY a.id DESC LIMIT ?`)
      .all(limit) as { id: number; rule_id: string; rule_name: string | null; kind: string; resource_id: string; resource_name: string; severity: Alert['severity']; value: number | null; fired_at: string; resolved_at: string | null; message: string }[];
    const dq = this.o.db.prepare('SELECT event, channel, status, error, at FROM alert_deliveries WHERE alert_id = ? ORDER BY id');
    const now = new Date().toISOString();
    return rows.map((r) => ({
      id: r.id,
      ruleId: r.rule_id,
      ruleName: r.rule_name,
      kind: r.kind,
      resourceId: r.resource_id,
      resourceName: r.resource_name,
      severity: r.severity,
      state: r.resolved_at ? 'resolved' : 'firing',
      value: r.value,
      message: r.message,
      firedAt: r.fired_at,
      resolvedAt: r.resolved_at,
      silenced: this.silenced(r.rule_id, r.resource_id, now),
      deliveries: dq.all(r.id) as Alert['deliveries'],
    }));
  }

  /* Silences */
  silences(): { id: string; ruleId: string | null; resourceId: string | null; until: string; reason: string }[] {
    return this.o.db.prepare('SELECT id, rule_id AS ruleId, resource_id AS resourceId, until, reason FROM alert_silences WHERE until > ? ORDER BY until').all(new Date().toISOString()) as never;
  }

  silence(s: { ruleId?: string; resourceId?: string; until: string; reason: string }): string {
    if (s.ruleId) this.rule(s.ruleId);
    const id = `as-${randomBytes(8).toString('hex')}`;
    this.o.db.prepare('INSERT INTO alert_silences (id, rule_id, resource_id, until, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, s.ruleId ?? null, s.resourceId ?? null, new Date(s.until).toISOString(), s.reason, new Date().toISOString());
    return id;
  }

  unsilence(id: string): void {
    if (this.o.db.prepare('DELETE FROM alert_silences WHERE id = ?').run(id).changes === 0) throw new ApiError('not_found', `no silence ${id}`, { id });
  }

  private silenced(ruleId: string, resourceId: string, nowIso: string): boolean {
    return !!this.o.db.prepare('SELECT 1 FROM alert_silences WHERE until > ? AND (rule_id IS NULL OR rule_id = ?) AND (resource_id IS NULL OR resource_id = ?)').get(nowIso, ruleId, resourceId);
  }

  /* Channels */
  channels(): Channels {
    const get = (id: string) => {
      const r = this.o.db.prepare('SELECT config FROM alert_channels WHERE id = ?').pluck().get(id) as string | undefined;
      return r ? (JSON.parse(r) as unknown) : null;
    };
    return { email: get('email') as Channels['email'], webhook: get('webhook') as Channels['webhook'] };
  }

  async setChannels(c: Channels): Promise<Channels> {
    const now = new Date().toISOString();
    const put = this.o.db.prepare('INSERT INTO alert_channels (id, config, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at');
    const del = this.o.db.prepare('DELETE FROM alert_channels WHERE id = ?');
    if (c.email) {
      const { password, ...rest } = c.email;
      if (password) await this.o.vault.put(SMTP_SECRET, 'SMTP password for alert e-mail', password);
      put.run('email', JSON.stringify(rest), now);
    } else {
      del.run('email');
      this.o.vault.delete(SMTP_SECRET);
    }
    if (c.webhook) put.run('webhook', JSON.stringify(c.webhook), now);
    else del.run('webhook');
    return this.channels();
  }

  /** Sends one message to one channel; answers the delivery's outcome (errors are data, never thrown). */
  async send(channel: 'desktop' | 'email' | 'webhook', msg: { subject: string; text: string; severity: string; payload: unknown }): Promise<{ status: 'sent' | 'failed'; error: string | null }> {
    try {
      if (channel === 'desktop') {
        this.o.platform.notify({ level: msg.severity === 'critical' ? 'error' : msg.severity === 'warning' ? 'warning' : 'info', title: msg.subject, body: msg.text });
      } else if (channel === 'email') {
        const c = this.channels().email;
        if (!c) throw new Error('e-mail is not set up (alerts.setChannels)');
        const password = (await this.o.vault.get(SMTP_SECRET))?.toString('utf8');
        await sendSmtp(c, password, { to: c.to, subject: msg.subject, text: msg.text });
      } else {
        const c = this.channels().webhook;
        if (!c) throw new Error('the webhook is not set up (alerts.setChannels)');
        const res = await fetch(c.url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': 'Skydeck' }, body: JSON.stringify(msg.payload), signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`the webhook answered HTTP ${res.status}`);
      }
      return { status: 'sent', error: null };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const error = err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message;
      this.log.warn('alert delivery failed', { channel, error });
      return { status: 'failed', error };
    }
  }

  /* Evaluation */
  evaluate(now = Date.now()): Promise<{ fired: number; resolved: number }> {
    // One evaluation at a time: a second caller waits for the running one.
    this.evaluating ??= this.runEvaluation(now).finally(() => (this.evaluating = null));
    return this.evaluating;
  }

  private async runEvaluation(now: number): Promise<{ fired: number; resolved: number }> {
    let fired = 0;
    let resolved = 0;
    const rules = this.o.db.prepare('SELECT * FROM alert_rules WHERE enabled = 1').all() as RuleRow[];
    for (const rule of rules) {
      const candidates = isBuiltinMetric(rule.metric) ? this.offlineCandidates(rule, now) : this.metricCandidates(rule, now);
      const open = new Map(
        (this.o.db.prepare('SELECT id, resource_id FROM alerts WHERE rule_id = ? AND resolved_at IS NULL').all(rule.id) as { id: number; resource_id: string }[]).map((r) => [r.resource_id, r.id]),
      );
      for (const c of candidates) {
        const alertId = open.get(c.id);
        if (alertId === undefined && c.breach) {
          const msg = `${rule.name}: ${c.name} ${rule.metric === 'host.offline' ? 'is offline' : rule.metric === 'agent.lost' ? 'answers over SSH but its agent does not' : `${rule.metric} ${fmt(c.value)} ${rule.condition} ${fmt(rule.threshold)}`}`;
          const id = Number(
            this.o.db
              .prepare('INSERT INTO alerts (rule_id, kind, resource_id, resource_name, severity, value, fired_at, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
              .run(rule.id, rule.kind, c.id, c.name, rule.severity, c.value, new Date(now).toISOString(), msg).lastInsertRowid,
          );
          fired++;
          await this.notify(rule, id, 'firing', c, msg, now);
        } else if (alertId !== undefined && c.clear) {
          const msg = `${rule.name}: ${c.name} ${rule.metric === 'host.offline' ? 'is back online' : rule.metric === 'agent.lost' ? 'has its agent back' : `${rule.metric} back at ${fmt(c.value)}`}`;
          this.o.db.prepare('UPDATE alerts SET resolved_at = ? WHERE id = ?').run(new Date(now).toISOString(), alertId);
          resolved++;
          await this.notify(rule, alertId, 'resolved', c, msg, now);
        }
      }
      // An open alert whose resource is gone from the scope (rule narrowed, resource removed) resolves too.
      const seen = new Set(candidates.map((c) => c.id));
      for (const [resourceId, alertId] of open) {
        if (seen.has(resourceId)) continue;
        const stale = !isBuiltinMetric(rule.metric) && this.o.db.prepare(`SELECT 1 FROM ${rule.kind === 'host' ? 'hosts' : 'guests'} WHERE id = ?`).get(resourceId) && this.inScope(rule, resourceId);
        if (stale) continue; // no fresh data: keep the state (host offline says why)
        this.o.db.prepare('UPDATE alerts SET resolved_at = ? WHERE id = ?').run(new Date(now).toISOString(), alertId);
        resolved++;
      }
    }
    return { fired, resolved };
  }

  private scopeSql(rule: RuleRow, col: string): { sql: string; args: unknown[] } {
    const scope = JSON.parse(rule.scope) as Scope;
    if (scope.type === 'resource') return { sql: `AND ${col} = ?`, args: [scope.id] };
    if (scope.type === 'tag') return { sql: `AND EXISTS (SELECT 1 FROM tags t WHERE t.kind = ? AND t.resource_id = ${col} AND t.key = ?${scope.value !== undefined ? ' AND t.value = ?' : ''})`, args: [rule.kind, scope.key, ...(scope.value !== undefined ? [scope.value] : [])] };
    if (scope.type === 'project') return rule.kind === 'guest' ? { sql: 'AND r.project_id = ?', args: [scope.id] } : { sql: 'AND 0', args: [] };
    return { sql: '', args: [] };
  }

  private inScope(rule: RuleRow, resourceId: string): boolean {
    const { sql, args } = this.scopeSql(rule, 'r.id');
    return !!this.o.db.prepare(`SELECT 1 FROM ${rule.kind === 'host' ? 'hosts' : 'guests'} r WHERE r.id = ? ${sql}`).get(resourceId, ...args);
  }

  private metricCandidates(rule: RuleRow, now: number): { id: string; name: string; value: number; breach: boolean; clear: boolean }[] {
    const { sql, args } = this.scopeSql(rule, 's.resource_id');
    const table = rule.kind === 'host' ? 'hosts' : 'guests';
    // Latest values and recent samples come from the metrics store (in memory and blocks), not SQL.
    const mdb = MetricsDb.of(this.o.db);
    const series = (
      this.o.db
        .prepare(`SELECT s.id AS sid, s.resource_id AS id, r.name AS name FROM metric_series s JOIN ${table} r ON r.id = s.resource_id WHERE s.kind = ? AND s.metric = ? ${sql}`)
        .all(rule.kind, rule.metric, ...args) as { sid: number; id: string; name: string }[]
    ).flatMap((s) => {
      const l = mdb.latestOf(s.sid);
      return l && l.ts >= now - STALE_MS ? [{ ...s, value: l.value, ts: l.ts }] : [];
    });
    return series.map((s) => {
      const latestHolds = holds(rule.condition, s.value, rule.threshold);
      let breach = latestHolds;
      if (rule.duration_s > 0 && latestHolds) {
        const from = now - rule.duration_s * 1000;
        const w = mdb.rawStats(s.sid, from, now);
        const oldest = mdb.oldestRaw(s.sid);
        const all = w.count > 0 && w.min !== null && w.max !== null && (rule.condition.startsWith('>') ? holds(rule.condition, w.min, rule.threshold) : holds(rule.condition, w.max, rule.threshold));
        breach = all && oldest !== null && oldest <= from;
      }
      return { id: s.id, name: s.name, value: s.value, breach, clear: !latestHolds };
    });
  }

  private offlineCandidates(rule: RuleRow, now: number): { id: string; name: string; value: number; breach: boolean; clear: boolean }[] {
    const { sql, args } = this.scopeSql(rule, 'r.id');
    const hosts = this.o.db.prepare(`SELECT r.id AS id, r.name AS name, r.status AS status FROM hosts r JOIN host_links l ON l.host_id = r.id WHERE l.agent_version IS NOT NULL ${sql}`).all(...args) as { id: string; name: string; status: string }[];
    const statuses = BUILTIN_STATUSES[rule.metric] ?? [];
    return hosts.map((h) => {
      const down = statuses.includes(h.status);
      const key = `${rule.id}/${h.id}`;
      if (!down) this.offlineSince.delete(key);
      else if (!this.offlineSince.has(key)) this.offlineSince.set(key, now);
      const since = this.offlineSince.get(key);
      return { id: h.id, name: h.name, value: down ? 1 : 0, breach: down && since !== undefined && now - since >= rule.duration_s * 1000, clear: !down };
    });
  }

  private async notify(rule: RuleRow, alertId: number, event: 'firing' | 'resolved', c: { id: string; name: string; value: number }, message: string, now: number): Promise<void> {
    const at = new Date(now).toISOString();
    const record = this.o.db.prepare('INSERT INTO alert_deliveries (alert_id, event, channel, status, error, at) VALUES (?, ?, ?, ?, ?, ?)');
    const channels = JSON.parse(rule.channels) as ('desktop' | 'email' | 'webhook')[];
    if (this.silenced(rule.id, c.id, at)) {
      for (const ch of channels) record.run(alertId, event, ch, 'silenced', null, at);
      return;
    }
    const subject = `[Skydeck] ${event === 'firing' ? `${rule.severity.toUpperCase()} firing` : 'Resolved'}: ${rule.name} - ${c.name}`;
    const payload = {
      event,
      alert: { id: alertId, ruleId: rule.id, rule: rule.name, metric: rule.metric, condition: rule.condition, threshold: rule.threshold, severity: rule.severity, kind: rule.kind, resourceId: c.id, resourceName: c.name, value: c.value, at, message },
    };
    await Promise.all(
      channels.map(async (ch) => {
        const r = await this.send(ch, { subject, text: message, severity: rule.severity, payload });
        record.run(alertId, event, ch, r.status, r.error, new Date().toISOString());
      }),
    );
  }
}

const fmt = (v: number): string => String(Math.round(v * 100) / 100);
