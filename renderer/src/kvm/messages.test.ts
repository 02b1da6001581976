import { describe, expect, it } from 'vitest';
import en from '../i18n/en';
import zhCN from '../i18n/zh-CN';
import { flattenKeys, flattenMessages } from '../i18n/keys';
import { GUEST_ACTIONS } from '@shared/contract/inventory/commands';
import { GUEST_STATUSES } from '@shared/contract/inventory/status';
import { hostConnectionSchema, hostKeySchema } from '@shared/contract/kvm';
import { DANGEROUS_GUEST_ACTIONS } from '../inventory/actions';
import { KIND_STATUSES } from '../inventory/kinds';
import { stageLabel, taskTitle } from '../components/task-labels';
import { ADD_HOST_STEPS, AUTH_METHODS } from './add-host';
import { BOOTSTRAP_STAGES, CREATE_GUEST_STAGES } from './stages';

const keys = new Set(flattenKeys(en));
const i18nOf = (tree: unknown) => {
  const flat = flattenMessages(tree) as Record<string, string>;
  const fallback = flattenMessages(en) as Record<string, string>;
  return {
    te: (k: string, locale?: string) => (locale === 'en' ? k in fallback : k in flat),
    t: (k: string, named?: Record<string, unknown>) => (flat[k] ?? fallback[k] ?? k).replace(/\{(\w+)\}/g, (_, n: string) => String(named?.[n] ?? '')),
  };
};

describe('KVM messages built at run time', () => {
  it('exist for every action hint and confirmation, connection state, trust, step, auth method and status', () => {
    const wanted = [
      ...GUEST_ACTIONS.flatMap((a) => [`inv.action.${a}`, `inv.actionHint.${a}`]),
      ...DANGEROUS_GUEST_ACTIONS.flatMap((a) => ['title', 'body'].flatMap((p) => [`inv.guest.confirm.${a}.${p}`, `inv.bulk.confirm.${a}.${p}`])),
      ...hostConnectionSchema.shape.state.options.map((s) => `kvm.host.state.${s}`),
      ...hostKeySchema.shape.trust.options.map((s) => `kvm.add.trust.${s}`),
      ...ADD_HOST_STEPS.map((s) => `kvm.add.steps.${s}`),
      ...AUTH_METHODS.map((m) => `kvm.auth.${m}`),
      ...GUEST_STATUSES.map((s) => `inv.status.${s}`),
      ...(KIND_STATUSES.hosts ?? []).map((s) => `inv.status.${s}`),
      ...['overview', 'hardware', 'storage', 'network', 'guests', 'tasks', 'scheduling'].map((s) => `kvm.host.tabs.${s}`),
      ...['overview', 'disks', 'nics', 'cdrom', 'snapshots'].map((s) => `kvm.guest.tabs.${s}`),
      ...['image', 'iso', 'none', 'kernel'].map((s) => `kvm.create.sourceKind.${s}`),
      ...['kvm', 'tcg'].map((s) => `kvm.host.virtMode.${s}`),
      ...BOOTSTRAP_STAGES.map((s) => `taskStage.hosts.bootstrap.${s}`),
      ...CREATE_GUEST_STAGES.map((s) => `taskStage.guests.create.${s}`),
    ];
    expect(wanted.filter((k) => !keys.has(k))).toEqual([]);
  });

  it('labels stages and titles tasks in both languages', () => {
    const enI = i18nOf(en);
    const zhI = i18nOf(zhCN);
    expect(stageLabel(enI as never, 'hosts.bootstrap', 'onUpload')).toBe('Upload the agent');
    expect(stageLabel(zhI as never, 'hosts.bootstrap', 'onUpload')).toBe('上传代理');
    expect(stageLabel(enI as never, 'hosts.bootstrap', 'onSomethingNew')).toBe('Something new');
    expect(taskTitle(enI as never, { type: 'guests.op', params: { op: 'attachDisk' } })).toBe('Attach disk');
    expect(taskTitle(zhI as never, { type: 'guests.op', params: { op: 'snapshotRevert' } })).toBe('回滚快照');
    expect(taskTitle(enI as never, { type: 'guests.op', params: { op: 'teleport' } })).toBe('Guest device operation');
    expect(taskTitle(enI as never, { type: 'guests.action', params: { action: 'forceStop' } })).toBe('Guest action: Force off');
    expect(taskTitle(zhI as never, { type: 'guests.action', params: { action: 'reset' } })).toBe('虚拟机操作：重置');
    expect(taskTitle(enI as never, { type: 'hosts.bootstrap', params: { mode: 'upgrade' } })).toBe('Upgrade host agent');
    expect(taskTitle(enI as never, { type: 'hosts.bootstrap', params: { mode: 'install' } })).toBe('Add host: install the agent');
    expect(taskTitle(enI as never, { type: 'system.backup', params: {} })).toBe('Database backup');
  });

  it('says stop is a shutdown and tells force off and reset apart, in Chinese as an admin expects', () => {
    const zh = flattenMessages(zhCN) as Record<string, string>;
    expect([zh['inv.action.stop'], zh['inv.action.forceStop'], zh['inv.action.reboot'], zh['inv.action.reset'], zh['inv.action.suspend'], zh['inv.action.resume']]).toEqual(['关机', '强制关机', '重启', '重置', '挂起', '恢复']);
    expect(zh['nav.hosts']).toBe('宿主机');
  });
});
