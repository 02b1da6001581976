import { describe, expect, it } from 'vitest';
import { formatCapacity, statusType, usagePercent } from './format';
import { defaultColumns, resolveColumns, KIND_COLUMNS } from './kinds';

describe('inventory format', () => {
  it('formats capacities in binary units', () => {
    expect(formatCapacity(512, 'MB')).toBe('512 MiB');
    expect(formatCapacity(2048, 'MB')).toBe('2 GiB');
    expect(formatCapacity(1536, 'GB')).toBe('1.5 TiB');
    expect(formatCapacity(0, 'GB')).toBe('0 GiB');
  });
  it('colours statuses', () => {
    expect(statusType('running')).toBe('success');
    expect(statusType('start_failed')).toBe('danger');
    expect(statusType('suspended')).toBe('warning');
    expect(statusType('rebooting')).toBe('primary');
    expect(statusType('ready')).toBe('info');
    expect(usagePercent(5, 10)).toBe(50);
    expect(usagePercent(5, null)).toBe(0);
    expect(usagePercent(50, 10)).toBe(100);
  });
});

describe('columns', () => {
  it('every kind shows its name first and keeps column keys unique', () => {
    for (const [kind, cols] of Object.entries(KIND_COLUMNS)) {
      expect(cols[0]!.key, kind).toBe('name');
      expect(new Set(cols.map((c) => c.key)).size, kind).toBe(cols.length);
      expect(defaultColumns(kind as never).length, kind).toBeGreaterThan(2);
    }
  });
  it('resolves a remembered choice, dropping unknown keys and falling back to the defaults', () => {
    expect(resolveColumns('guests', ['vcpu', 'nope', 'name']).map((c) => c.key)).toEqual(['vcpu', 'name']);
    expect(resolveColumns('guests', ['nope']).map((c) => c.key)).toEqual(defaultColumns('guests'));
    expect(resolveColumns('guests', null).map((c) => c.key)).toEqual(defaultColumns('guests'));
  });
});

describe('messages built at run time', () => {
  it('exist for every column, kind, guest status, provider, action and quota', async () => {
    const en = (await import('../i18n/en')).default;
    const { flattenKeys } = await import('../i18n/keys');
    const { RESOURCE_KIND_NAMES, QUOTA_KEYS } = await import('@shared/contract/inventory/kinds');
    const { GUEST_STATUSES } = await import('@shared/contract/inventory/status');
    const { PROVIDERS } = await import('@shared/contract/inventory/base');
    const { GUEST_ACTIONS } = await import('@shared/contract/inventory/commands');
    const keys = new Set(flattenKeys(en));
    const wanted = [
      ...Object.values(KIND_COLUMNS).flatMap((cols) => cols.map((c) => c.label)),
      ...RESOURCE_KIND_NAMES.flatMap((k) => [`inv.kind.${k}`, `inv.kinds.${k}`]),
      ...GUEST_STATUSES.map((s) => `inv.status.${s}`),
      ...PROVIDERS.map((p) => `inv.provider.${p}`),
      ...GUEST_ACTIONS.map((a) => `inv.action.${a}`),
      ...QUOTA_KEYS.map((q) => `inv.quota.${q}`),
      'inv.reason.readOnly',
      'inv.reason.noDriver',
      'inv.reason.driverCannot',
      'inv.reason.status',
    ];
    expect(wanted.filter((k) => !keys.has(k))).toEqual([]);
  });
});
