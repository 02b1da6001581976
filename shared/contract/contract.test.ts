import { describe, expect, it } from 'vitest';
import { commands, listRoutes } from './index';
import { listQuerySchema } from '../list';

describe('the contract', () => {
  it('names every command domain.verb', () => {
    for (const name of Object.keys(commands)) expect(name).toMatch(/^[a-z][a-zA-Z]*\.[a-z][a-zA-Z]*$/);
  });

  it('serves list commands as GET resources', () => {
    expect(listRoutes).toMatchObject({ tasks: 'tasks.list', audit: 'audit.list' });
  });

  it('parses list queries from strings (query parameters) with defaults and bounds', () => {
    expect(listQuerySchema.parse({ limit: '25', offset: '50', sort: '-created_at' })).toEqual({ limit: 25, offset: 50, sort: '-created_at', filter: [] });
    expect(listQuerySchema.safeParse({ sort: 'name; DROP TABLE tasks' }).success).toBe(false);
    expect(listQuerySchema.safeParse({ filter: ['no-colon'] }).success).toBe(false);
    expect(listQuerySchema.safeParse({ limit: 0 }).success).toBe(false);
  });
});
