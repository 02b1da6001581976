import { describe, expect, it } from 'vitest';
import en from '../i18n/en';
import zhCN from '../i18n/zh-CN';
import { AREAS, AREA_GROUPS, areaForPath } from './areas';
import { matchAreas, normalize } from './match';

const names = (area: (typeof AREAS)[number]): string[] => [
  (zhCN.nav as Record<string, unknown>)[area.key] as string,
  (en.nav as Record<string, unknown>)[area.key] as string,
];
const ids = (q: string) => matchAreas(q, AREAS, names).map((m) => m.area.id);

describe('areas', () => {
  it('lists every area in the product order with its path', () => {
    expect(AREAS.map((a) => a.path)).toEqual([
      '/dashboard',
      '/hosts',
      '/guests',
      '/consoles',
      '/networks',
      '/storage',
      '/images',
      '/cloud-accounts',
      '/baremetal',
      '/tasks',
      '/monitoring',
      '/alerts',
      '/reports',
      '/projects',
      '/audit',
      '/settings',
    ]);
  });

  it('keeps groups contiguous and in group order', () => {
    const seen = AREAS.map((a) => AREA_GROUPS.indexOf(a.group));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('has a name in both languages for every area and group', () => {
    for (const a of AREAS) {
      expect((en.nav as Record<string, unknown>)[a.key], a.id).toBeTypeOf('string');
      expect((zhCN.nav as Record<string, unknown>)[a.key], a.id).toBeTypeOf('string');
    }
    for (const g of AREA_GROUPS) {
      expect(en.nav.groups[g]).toBeTruthy();
      expect(zhCN.nav.groups[g]).toBeTruthy();
    }
  });

  it('finds the area of a path', () => {
    expect(areaForPath('/tasks')?.id).toBe('tasks');
    expect(areaForPath('/tasks?id=1')?.id).toBe('tasks');
    expect(areaForPath('/cloud-accounts/x')?.id).toBe('cloud-accounts');
    expect(areaForPath('/nope')).toBeUndefined();
    expect(areaForPath('/')).toBeUndefined();
  });
});

describe('matchAreas', () => {
  it('normalizes case, accents and separators', () => {
    expect(normalize('  Cloud-Accounts ')).toBe('cloud accounts');
    expect(normalize('Élan_Vital')).toBe('elan vital');
  });

  it('matches names by prefix, word and substring, best first', () => {
    expect(ids('tasks')[0]).toBe('tasks');
    expect(ids('set')[0]).toBe('settings');
    expect(ids('acc')).toContain('cloud-accounts');
    expect(ids('cloud')[0]).toBe('cloud-accounts');
    expect(ids('log')[0]).toBe('audit');
  });

  it('matches the Chinese names', () => {
    expect(ids('主机')[0]).toBe('hosts');
    expect(ids('审计')[0]).toBe('audit');
    expect(ids('设置')[0]).toBe('settings');
  });

  it('matches keywords below names', () => {
    expect(ids('kvm')).toContain('hosts');
    expect(ids('vm')).toContain('guests');
    expect(ids('backup')).toContain('settings');
    expect(ids('ipmi')).toEqual(['baremetal']);
  });

  it('matches the id too', () => {
    expect(ids('baremetal')[0]).toBe('baremetal');
    expect(ids('cloud-accounts')[0]).toBe('cloud-accounts');
  });

  it('answers nothing for blank or unrelated text, and honours the limit', () => {
    expect(ids('   ')).toEqual([]);
    expect(ids('zzqx')).toEqual([]);
    expect(matchAreas('s', AREAS, names, 3)).toHaveLength(3);
  });

  it('keeps navigation order among equal matches', () => {
    const r = ids('s');
    const order = r.map((id) => AREAS.findIndex((a) => a.id === id));
    const scores = matchAreas('s', AREAS, names).map((m) => Math.round(m.score));
    for (let i = 1; i < r.length; i++) if (scores[i] === scores[i - 1]) expect(order[i]).toBeGreaterThan(order[i - 1]!);
  });
});

describe('area icons', () => {
  it('every area names an icon the navigation has', async () => {
    const { areaIcons } = await import('../components/icons');
    for (const a of AREAS) expect(areaIcons[a.icon], a.id).toBeTruthy();
  });
});
