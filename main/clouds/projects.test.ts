import { afterEach, describe, expect, it } from 'vitest';
import { startAwsFake, type AwsFake } from '../../scripts/peers/clouds/aws/fake.mjs';
import { testServer } from '../test/helpers';

/**
 * Cloud tags mapped to projects (main/clouds/projects.ts), through the API against the AWS fake: by tag value, by
 * override, the default project, a user's move kept across syncs, the mapping removed, a bad project id refused.
 * The fake tags instance i with env=dev (even i) or env=prod (odd i).
 */
type T = Awaited<ReturnType<typeof testServer>>;
describe('cloud tags → projects', () => {
  let t: T;
  let fake: AwsFake;
  afterEach(async () => {
    await t?.close();
    await fake?.close();
  });

  const setup = async () => {
    fake = await startAwsFake({ defaultInstances: 6 });
    t = await testServer();
    const r = await t.call('clouds.add', { name: 'prod', credentials: { provider: 'aws', accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey }, endpoint: fake.endpoint, regions: ['us-east-1'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await t.core.engine.waitFor(r.body.taskId)).status).toBe('succeeded');
    const project = async (name: string) => {
      const p = await t.call('projects.create', { name });
      expect(p.status, JSON.stringify(p.body)).toBe(200);
      return p.body.id as string;
    };
    return { id: r.body.account.account.id as string, project };
  };
  const sync = async (id: string) => {
    const r = await t.call('clouds.syncNow', { id });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await t.core.engine.waitFor(r.body.taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
  };
  const guests = (id: string) => t.core.db.prepare(`SELECT g.id, g.name, g.project_id AS projectId, g.project_source AS source, (SELECT value FROM tags WHERE kind = 'guest' AND resource_id = g.id AND key = 'env' AND source = 'provider') AS env FROM guests g WHERE cloud_account_id = ? ORDER BY name`).all(id) as { id: string; name: string; projectId: string | null; source: string | null; env: string }[];
  const diskProjects = (id: string) => t.core.db.prepare('SELECT d.project_id AS disk, g.project_id AS guest FROM disks d JOIN guests g ON g.id = d.guest_id WHERE d.cloud_account_id = ?').all(id) as { disk: string | null; guest: string | null }[];
  const update = (body: Record<string, unknown>) => t.call('clouds.update', body);

  it('maps by tag value (case-insensitive name), keeps it across syncs, and disks follow their guest', async () => {
    const { id, project } = await setup();
    const prod = await project('PROD');
    const r = await update({ id, projectMapping: { tagKey: 'env' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.projectMapping).toEqual({ tagKey: 'env', defaultProjectId: null, overrides: {} });
    const g = guests(id);
    expect(g).toHaveLength(6);
    for (const x of g) expect(x).toMatchObject(x.env === 'prod' ? { projectId: prod, source: 'mapped' } : { projectId: null, source: null });
    expect(diskProjects(id).every((d) => d.disk === d.guest)).toBe(true);

    // A new tag value in the cloud, and an override: the next sync follows.
    const dev = await project('development');
    const first = [...fake.region('us-east-1').instances.values()][0]!;
    first.tags.env = 'Dev';
    expect((await update({ id, projectMapping: { tagKey: 'env', overrides: { dev } } })).status).toBe(200);
    await sync(id);
    for (const x of guests(id)) expect(x.projectId).toBe(x.env === 'prod' ? prod : dev);

    // Mapped guests count toward the project's usage, as every guest with a project does.
    const usage = await t.call('projects.usage', { id: prod });
    expect(usage.body.usage.guests).toBe(3);
  });

  it('a default project for the rest; a user move kept across syncs; the mapping removed unsets only mapped ones', async () => {
    const { id, project } = await setup();
    const prod = await project('prod');
    const other = await project('other');
    const mine = await project('mine');
    expect((await update({ id, projectMapping: { tagKey: 'env', defaultProjectId: other } })).status).toBe(200);
    for (const x of guests(id)) expect(x.projectId).toBe(x.env === 'prod' ? prod : other);

    const moved = guests(id).find((x) => x.env === 'prod')!;
    const m = await t.call('guests.move', { ids: [moved.id], projectId: mine });
    expect(m.status, JSON.stringify(m.body)).toBe(200);
    await sync(id);
    expect(guests(id).find((x) => x.id === moved.id)).toMatchObject({ projectId: mine, source: 'user' });

    // The tag changes in the cloud: the user's choice still wins.
    fake.region('us-east-1').instances.forEach((i: { tags: Record<string, string> }) => (i.tags.env = 'dev'));
    await sync(id);
    for (const x of guests(id)) expect(x.projectId).toBe(x.id === moved.id ? mine : other);

    const r = await update({ id, projectMapping: null });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.projectMapping).toBeNull();
    await sync(id);
    for (const x of guests(id)) expect(x).toMatchObject(x.id === moved.id ? { projectId: mine, source: 'user' } : { projectId: null, source: null });
    expect(diskProjects(id).every((d) => d.disk === d.guest)).toBe(true);
  });

  it('refuses an unknown project id, naming the field, and changes nothing', async () => {
    const { id, project } = await setup();
    await project('prod');
    const bad = await update({ id, name: 'renamed', projectMapping: { tagKey: 'env', defaultProjectId: 'nope' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('projectMapping.defaultProjectId');
    const bad2 = await update({ id, projectMapping: { tagKey: 'env', overrides: { dev: 'missing' } } });
    expect(bad2.status).toBe(400);
    expect(JSON.stringify(bad2.body)).toContain('projectMapping.overrides.dev');
    const shape = await update({ id, projectMapping: { tagKey: '', defaultProjectId: 'has space' } });
    expect(shape.status).toBe(400);
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc).toMatchObject({ projectMapping: null });
    expect(acc.account.name).toBe('prod');
    expect(guests(id).every((x) => x.projectId === null)).toBe(true);
  });
  it('clouds.add takes the mapping: the first sync maps already; an unknown project is refused before anything is stored', async () => {
    fake = await startAwsFake({ defaultInstances: 6 });
    t = await testServer();
    const dev = (await t.call('projects.create', { name: 'dev' })).body.id as string;
    const fallback = (await t.call('projects.create', { name: 'fallback' })).body.id as string;
    const credentials = { provider: 'aws', accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey };
    const bad = await t.call('clouds.add', { name: 'prod', credentials, endpoint: fake.endpoint, regions: ['us-east-1'], projectMapping: { tagKey: 'env', defaultProjectId: 'nope' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('projectMapping.defaultProjectId');
    expect((await t.call('clouds.accounts', {})).body.items).toEqual([]);
    const shape = await t.call('clouds.add', { name: 'prod', credentials, endpoint: fake.endpoint, projectMapping: { tagKey: '' } });
    expect(shape.status).toBe(400);

    const r = await t.call('clouds.add', { name: 'prod', credentials, endpoint: fake.endpoint, regions: ['us-east-1'], projectMapping: { tagKey: 'env', defaultProjectId: fallback } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.account.projectMapping).toEqual({ tagKey: 'env', defaultProjectId: fallback, overrides: {} });
    expect((await t.core.engine.waitFor(r.body.taskId)).status).toBe('succeeded');
    const id = r.body.account.account.id as string;
    const all = guests(id);
    expect(all.length).toBeGreaterThan(0);
    for (const x of all) expect(x).toMatchObject({ projectId: x.env === 'dev' ? dev : fallback, source: 'mapped' });
  });
});
