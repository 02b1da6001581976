import { describe, expect, it } from 'vitest';
import { emptyState, fromSavedQuery, isFiltered, nextSort, parseTagFilter, sameQuery, toFilter, toListQuery, toSavedQuery } from './query';

describe('list query state', () => {
  it('turns toolbar state into the filter array the API understands', () => {
    const s = { ...emptyState(), status: ['running', 'ready'], providers: ['kvm'], tags: ['env=prod', 'team'], favoritesOnly: true, extra: ['host_id:h-1'] };
    expect(toFilter(s)).toEqual(['status:running,ready', 'provider:kvm', 'tag:env=prod', 'tag:team', 'favorite:true', 'host_id:h-1']);
    expect(toFilter({ ...s, folder: 'prod/web' })).toContain('folder:prod/web');
    expect(toFilter({ ...s, folder: 'prod/web' })).not.toContain('favorite:true');
    expect(toListQuery({ ...emptyState(), sort: '-memory_mb', q: '  web ' }, 400, 200)).toEqual({ offset: 400, limit: 200, filter: [], sort: '-memory_mb', q: 'web' });
  });

  it('round-trips through a saved view query', () => {
    const s = { ...emptyState(), sort: 'name', q: 'db', status: ['running'], tags: ['env=prod'], folder: 'team/a', favoritesOnly: true, extra: ['zone_id:z-1'] };
    const back = fromSavedQuery(toSavedQuery(s));
    expect(back).toEqual(s);
    expect(sameQuery(toSavedQuery(s), toSavedQuery(back))).toBe(true);
    expect(isFiltered(emptyState())).toBe(false);
    expect(isFiltered({ ...emptyState(), sort: 'name' })).toBe(false);
    expect(isFiltered({ ...emptyState(), q: 'x' })).toBe(true);
  });

  it('parses tag filters and cycles the sort of a header', () => {
    expect(parseTagFilter('env=prod')).toEqual({ key: 'env', value: 'prod' });
    expect(parseTagFilter('env')).toEqual({ key: 'env', value: null });
    expect(parseTagFilter('a b=c')).toBeNull();
    expect(parseTagFilter(' ')).toBeNull();
    expect(nextSort(undefined, 'name')).toBe('name');
    expect(nextSort('name', 'name')).toBe('-name');
    expect(nextSort('-name', 'name')).toBeUndefined();
    expect(nextSort('-vcpu', 'name')).toBe('name');
  });
});
