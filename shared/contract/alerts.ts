import { z } from 'zod';
import { command } from './define';
import { empty, idSchema, ok } from './common';
import { METRIC_KINDS, METRICS } from './monitoring';

/**
 * Alerts: rules on any stored metric over a scope, evaluated after every collection; an alert fires once its condition
 * held for the rule's whole duration and resolves when it no longer holds. Notifications go to the desktop (platform
 * port), e-mail (SMTP) and a webhook; each delivery's outcome is kept. Built in: host offline (`host.offline`: SSH cannot reach it) and agent lost (`agent.lost`: SSH works, its agent does not answer).
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const CONDITIONS = ['>', '>=', '<', '<='] as const;
export const CHANNELS = ['desktop', 'email', 'webhook'] as const;
/** Pseudo-metrics of built-in rules. */
export const BUILTIN_METRICS = ['host.offline', 'agent.lost'] as const;

export const alertScopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('all') }).strict(),
  z.object({ type: z.literal('resource'), id: idSchema }).strict(),
  z.object({ type: z.literal('tag'), key: z.string().min(1).max(128), value: z.string().max(256).optional() }).strict(),
  z.object({ type: z.literal('project'), id: idSchema }).strict(),
]);

const ruleFields = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(METRIC_KINDS),
    metric: z.string().min(1).max(128),
    scope: alertScopeSchema.default({ type: 'all' }),
    condition: z.enum(CONDITIONS),
    threshold: z.number().finite(),
    durationSeconds: z.number().int('whole seconds').min(0, 'a duration cannot be negative').max(86_400 * 7),
    severity: z.enum(SEVERITIES).default('warning'),
    channels: z.array(z.enum(CHANNELS)).max(3).default(['desktop']),
    enabled: z.boolean().default(true),
  })
  .strict();

/** Unknown metrics and thresholds outside a metric's unit (a percentage over 100) are refused at save time. */
function checkRule(v: { kind: string; metric: string; threshold: number }, ctx: z.RefinementCtx): void {
  if ((BUILTIN_METRICS as readonly string[]).includes(v.metric)) return;
  const m = METRICS[v.metric];
  if (!m || !(m.kinds as readonly string[]).includes(v.kind)) {
    ctx.addIssue({ code: 'custom', path: ['metric'], message: `unknown metric ${v.metric} for ${v.kind}s` });
    return;
  }
  if (m.unit === 'percent' && (v.threshold < 0 || v.threshold > 100)) ctx.addIssue({ code: 'custom', path: ['threshold'], message: `${v.metric} is a percentage: the threshold must be 0–100` });
  if (m.unit !== 'percent' && v.threshold < 0) ctx.addIssue({ code: 'custom', path: ['threshold'], message: `${v.metric} is never negative` });
}

export const alertRuleInput = ruleFields.superRefine(checkRule);

export const alertRuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(METRIC_KINDS),
  metric: z.string(),
  scope: alertScopeSchema,
  condition: z.enum(CONDITIONS),
  threshold: z.number(),
  durationSeconds: z.number(),
  severity: z.enum(SEVERITIES),
  channels: z.array(z.enum(CHANNELS)),
  enabled: z.boolean(),
  builtin: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

export const alertSchema = z.object({
  id: z.number(),
  ruleId: z.string(),
  ruleName: z.string().nullable(),
  kind: z.string(),
  resourceId: z.string(),
  resourceName: z.string(),
  severity: z.enum(SEVERITIES),
  state: z.enum(['firing', 'resolved']),
  value: z.number().nullable(),
  message: z.string(),
  firedAt: z.string(),
  resolvedAt: z.string().nullable(),
  silenced: z.boolean(),
  deliveries: z.array(z.object({ event: z.string(), channel: z.string(), status: z.enum(['sent', 'failed', 'silenced']), error: z.string().nullable(), at: z.string() })),
});

export const channelsSchema = z.object({
  email: z
    .object({
      host: z.string().trim().min(1).max(253),
      port: z.number().int().min(1).max(65535).default(587),
      secure: z.boolean().default(false),
      user: z.string().max(256).optional(),
      /** Stored in the vault; never answered back. Leave out to keep the stored one. */
      password: z.string().max(1024).optional(),
      from: z.string().trim().min(3).max(256),
      to: z.array(z.string().trim().min(3).max(256)).min(1).max(50),
    })
    .strict()
    .nullable()
    .default(null),
  webhook: z.object({ url: z.url({ protocol: /^https?$/ }) }).strict().nullable().default(null),
});

export const alerts = {
  'alerts.listRules': command({ summary: 'Alert rules (built-in ones included)', input: empty, output: z.object({ items: z.array(alertRuleSchema) }), mutating: false }),
  'alerts.createRule': command({ summary: 'Create an alert rule', input: alertRuleInput, output: alertRuleSchema, mutating: true }),
  'alerts.updateRule': command({
    summary: 'Change an alert rule (built-in rules: only threshold, duration, severity, channels and enabled)',
    input: z.object({ id: idSchema, rule: alertRuleInput }).strict(),
    output: alertRuleSchema,
    mutating: true,
  }),
  'alerts.deleteRule': command({ summary: 'Delete an alert rule (its history stays)', input: z.object({ id: idSchema }).strict(), output: ok, mutating: true }),
  'alerts.list': command({
    summary: 'Alerts, newest first: firing ones, or the history',
    input: z.object({ state: z.enum(['firing', 'resolved', 'all']).default('all'), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    output: z.object({ items: z.array(alertSchema) }),
    mutating: false,
  }),
  'alerts.listSilences': command({
    summary: 'Silences in force',
    input: empty,
    output: z.object({ items: z.array(z.object({ id: z.string(), ruleId: z.string().nullable(), resourceId: z.string().nullable(), until: z.string(), reason: z.string() })) }),
    mutating: false,
  }),
  'alerts.silence': command({
    summary: 'Silence the notifications of a rule, a resource or both until a time',
    input: z
      .object({ ruleId: idSchema.optional(), resourceId: idSchema.optional(), until: z.iso.datetime(), reason: z.string().max(500).default('') })
      .strict()
      .refine((v) => v.ruleId || v.resourceId, { message: 'silence a rule, a resource or both', path: ['ruleId'] }),
    output: z.object({ id: z.string() }),
    mutating: true,
  }),
  'alerts.unsilence': command({ summary: 'End a silence', input: z.object({ id: idSchema }).strict(), output: ok, mutating: true }),
  'alerts.getChannels': command({ summary: 'E-mail and webhook settings (without the SMTP password)', input: empty, output: channelsSchema, mutating: false }),
  'alerts.setChannels': command({ summary: 'Set the e-mail and webhook settings', input: channelsSchema, output: channelsSchema, mutating: true, secretFields: ['password'] }),
  'alerts.testChannel': command({
    summary: 'Send a test notification to a channel and answer whether it arrived',
    input: z.object({ channel: z.enum(CHANNELS) }).strict(),
    output: z.object({ status: z.enum(['sent', 'failed']), error: z.string().nullable() }),
    mutating: false,
  }),
  'alerts.evaluate': command({ summary: 'Evaluate every rule now (also runs after every collection)', input: empty, output: z.object({ fired: z.number(), resolved: z.number() }), mutating: false }),
};
