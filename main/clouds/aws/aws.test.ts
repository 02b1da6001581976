import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sign, verify } from '../../../scripts/peers/clouds/aws/sigv4.mjs';
import { startAwsFake, type AwsFake } from '../../../scripts/peers/clouds/aws/fake.mjs';
import { testServer } from '../../test/helpers';
import { withRetry } from '../retry';
import { CloudError } from '../types';
import { awsDriver } from '.';

/**
 * AWS: the fake's SigV4 verifier on the published test-suite vector, then the real @aws-sdk/client-ec2 against the
 * loopback fake (which verifies every signature independently), through Skydeck's API: accounts, sync, operations.
 */

describe('SigV4 (independent implementation, AWS test suite)', () => {
  // aws-sig-v4-test-suite/get-vanilla (as in aws-sdk-js-v3 signature-v4 suite.fixture and aws-c-auth's tests).
  const vector = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    region: 'us-east-1',
    service: 'service',
    amzDate: '20150830T123600Z',
  };
  it('get-vanilla: canonical request, string to sign and signature', () => {
    const s = sign({ method: 'GET', url: 'https://example.amazonaws.com/', ...vector });
    expect(s.canonicalRequest).toBe('GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(s.stringToSign).toBe('AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
    expect(s.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
  it('get-vanilla-query-order-key-case sorts the query', () => {
    const s = sign({ method: 'GET', url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1', ...vector });
    expect(s.signature).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });
  it('verifies the vector and refuses a changed request, an unknown key and a stale date', () => {
    const headers = { host: 'example.amazonaws.com', 'x-amz-date': vector.amzDate, authorization: sign({ method: 'GET', url: 'https://example.amazonaws.com/', ...vector }).authorization };
    const at = { now: new Date('2015-08-30T12:40:00Z') };
    const secret = (k: string) => (k === 'AKIDEXAMPLE' ? vector.secretAccessKey : null);
    expect(verify({ method: 'GET', path: '/', query: '', headers, body: '' }, secret, at)).toMatchObject({ ok: true, region: 'us-east-1', service: 'service' });
    expect(verify({ method: 'GET', path: '/x', query: '', headers, body: '' }, secret, at)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verify({ method: 'GET', path: '/', query: '', headers, body: '' }, () => null, at)).toMatchObject({ ok: false, code: 'AuthFailure' });
    expect(verify({ method: 'GET', path: '/', query: '', headers, body: '' }, secret, { now: new Date('2015-08-31T12:40:00Z') })).toMatchObject({ ok: false, code: 'RequestExpired' });
  });
});

describe('withRetry', () => {
  it('retries throttling honouring Retry-After, and gives up on other errors at once', async () => {
    let n = 0;
    const t0 = Date.now();
    const v = await withRetry(async () => {
      if (++n < 2) throw new CloudError('aws', 'RequestLimitExceeded', 'slow down', 503, 0.3);
      return 'ok';
    }, { baseDelayMs: 1 });
    expect(v).toBe('ok');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    let m = 0;
    await expect(withRetry(async () => { m++; throw new CloudError('aws', 'UnauthorizedOperation', 'no', 403); }, { baseDelayMs: 1 })).rejects.toThrow('no');
    expect(m).toBe(1);
  });
});

describe('the AWS SDK against the fake', () => {
  let fake: AwsFake;
  afterEach(async () => fake?.close());

  it('pages through 10,000 instances with a verified signature on every request', async () => {
    fake = await startAwsFake({ defaultInstances: 10_000 });
    const s = await awsDriver.connect({ accountId: 'a', provider: 'aws', endpoint: fake.endpoint, credentials: { accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey } });
    let token: string | null = null;
    let n = 0;
    let pages = 0;
    do {
      const p = await s.listInstances('us-east-1', token, { pageSize: 1000 });
      n += p.items.length;
      pages++;
      token = p.next;
    } while (token);
    expect(n).toBe(10_000);
    expect(pages).toBe(10);
    expect(fake.stats.rejectedSignatures).toBe(0);
    expect(fake.stats.byAction.DescribeInstances).toBe(10);
    s.close();
  });

  it('wrong secret → SignatureDoesNotMatch; unknown key → AuthFailure (the cloud codes kept)', async () => {
    fake = await startAwsFake();
    const bad = await awsDriver.connect({ accountId: 'a', provider: 'aws', endpoint: fake.endpoint, credentials: { accessKeyId: fake.accessKeyId, secretAccessKey: 'wrong' } });
    await expect(bad.validate()).rejects.toMatchObject({ cloudCode: 'SignatureDoesNotMatch', httpStatus: 403 });
    const unknown = await awsDriver.connect({ accountId: 'a', provider: 'aws', endpoint: fake.endpoint, credentials: { accessKeyId: 'AKIDUNKNOWN000000000', secretAccessKey: 'x' } });
    await expect(unknown.validate()).rejects.toMatchObject({ cloudCode: 'AuthFailure' });
  });
});

type T = Awaited<ReturnType<typeof testServer>>;
describe('cloud accounts through the API', () => {
  let t: T;
  let fake: AwsFake;
  afterEach(async () => {
    await t?.close();
    await fake?.close();
  });
  const creds = () => ({ provider: 'aws', accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey });
  const add = async (extra: Record<string, unknown> = {}) => {
    const r = await t.call('clouds.add', { name: 'prod', credentials: creds(), endpoint: fake.endpoint, regions: ['us-east-1', 'eu-west-1'], ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await t.core.engine.waitFor(r.body.taskId);
    return { id: r.body.account.account.id as string, task };
  };
  const guestsOf = (id: string) => t.core.db.prepare('SELECT * FROM guests WHERE cloud_account_id = ? ORDER BY name').all(id) as Record<string, any>[];

  it('adds an account (validated, secret only in the vault), syncs every kind, and re-syncs added/changed/vanished', async () => {
    fake = await startAwsFake({ defaultInstances: 50 });
    t = await testServer();
    const { id, task } = await add();
    expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc).toMatchObject({ provider: 'aws', endpoint: fake.endpoint, credentialHint: fake.accessKeyId, guests: 53 });
    expect(acc.account).toMatchObject({ health: 'ok', regions: ['us-east-1', 'eu-west-1'] });
    expect(acc.regionStatus['us-east-1']).toMatchObject({ ok: true });
    const count = (table: string) => (t.core.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE provider = 'aws'`).get() as { n: number }).n;
    expect([count('regions'), count('zones'), count('wires'), count('networks'), count('security_groups'), count('guests'), count('disks'), count('images'), count('eips'), count('keypairs')]).toEqual([2, 6, 2, 6, 2, 53, 53, 6, 6, 2]);
    const g = guestsOf(id).find((x) => x.name === 'web-00000')!;
    expect(g).toMatchObject({ status: 'running', instance_type: 't3.micro', vcpu: 2, memory_mb: 1024 });
    expect(g.zone_id).toBeTruthy();
    const tags = t.core.db.prepare(`SELECT key, value, source FROM tags WHERE kind = 'guest' AND resource_id = ? ORDER BY key`).all(g.id);
    expect(tags).toEqual([{ key: 'Name', value: 'web-00000', source: 'provider' }, { key: 'env', value: 'dev', source: 'provider' }]);
    const nic = t.core.db.prepare('SELECT network_id FROM guest_nics WHERE guest_id = ?').get(g.id) as { network_id: string };
    expect(nic.network_id).toBeTruthy();
    // The guest list through the common API shows them with their provider.
    const list = (await t.call('guests.list', { filter: ['provider:aws'], limit: 5 })).body;
    expect(list.total).toBe(53);
    // No secret in the audit log, the logs or the database outside the vault.
    const audit = JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all());
    expect(audit).not.toContain(fake.secretAccessKey);
    expect(t.lines.join('\n')).not.toContain(fake.secretAccessKey);
    const dbText = readFileSync(join(t.dataDir, readdirSync(t.dataDir).find((f) => f.endsWith('.db'))!)).toString('latin1');
    expect(dbText).not.toContain(fake.secretAccessKey);

    // Changes in the cloud: one added, one changed (type and tag), one terminated.
    const r = fake.region('us-east-1');
    const [first, second] = [...r.instances.values()];
    first!.type = 'm5.xlarge';
    first!.tags.env = 'staging';
    r.instances.delete(second!.id);
    const proto = { ...first!, id: 'i-0000000000000new1', tags: { Name: 'added-1' }, mac: '0e:00:00:00:00:01', volumes: [] };
    r.instances.set(proto.id, proto);
    const s2 = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s2.status).toBe('succeeded');
    const after = guestsOf(id);
    expect(after.find((x) => x.name === 'added-1')).toBeTruthy();
    expect(after.find((x) => x.id === g.id)).toMatchObject({ instance_type: 'm5.xlarge', memory_mb: 16384 });
    expect(t.core.db.prepare(`SELECT value FROM tags WHERE kind = 'guest' AND resource_id = ? AND key = 'env'`).get(g.id)).toEqual({ value: 'staging' });
    expect(after.find((x) => x.external_id.endsWith(second!.id))).toMatchObject({ status: 'vanished' });
    expect((s2.result as any).regions[0].counts.instances).toMatchObject({ inserted: 1, updated: 1, vanished: 1 });
  });

  it('retries throttling (Retry-After) and 5xx during a sync; a failing region is reported per region, its rows untouched', async () => {
    fake = await startAwsFake({ defaultInstances: 30 });
    t = await testServer();
    const { id } = await add();
    const before = (t.core.db.prepare(`SELECT count(*) AS n FROM guests WHERE cloud_account_id = ? AND status <> 'vanished'`).get(id) as { n: number }).n;
    fake.inject({ kind: 'throttle', action: 'DescribeInstances', region: 'us-east-1', count: 2, retryAfterSeconds: 0 });
    fake.inject({ kind: '5xx', action: 'DescribeVolumes', region: 'us-east-1', count: 1 });
    // eu-west-1 fails for good (more 5xx than the retries).
    fake.inject({ kind: '5xx', action: 'DescribeInstances', region: 'eu-west-1', count: 100 });
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status).toBe('succeeded');
    expect(fake.stats.throttled).toBe(2);
    expect((s.result as any).regions[0].retries).toBe(3);
    expect((s.result as any).failedRegions).toEqual([expect.objectContaining({ region: 'eu-west-1', code: 'InternalError' })]);
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.regionStatus['eu-west-1']).toMatchObject({ ok: false, code: 'InternalError' });
    expect(acc.regionStatus['us-east-1']).toMatchObject({ ok: true });
    expect(acc.account.lastError).toContain('eu-west-1');
    const now = (t.core.db.prepare(`SELECT count(*) AS n FROM guests WHERE cloud_account_id = ? AND status <> 'vanished'`).get(id) as { n: number }).n;
    expect(now).toBe(before);
  }, 60_000);

  it('refuses wrong credentials and an unknown region at add (nothing stored); expired keys fail the sync with a clear error on task and account', async () => {
    fake = await startAwsFake();
    t = await testServer();
    const wrong = await t.call('clouds.add', { name: 'x', credentials: { ...creds(), secretAccessKey: 'WrongSecret-4f9a1c' }, endpoint: fake.endpoint });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'forbidden', details: { cloudCode: 'SignatureDoesNotMatch', reason: 'credentials' } });
    const region = await t.call('clouds.add', { name: 'x', credentials: creds(), endpoint: fake.endpoint, regions: ['mars-north-1'] });
    expect(region.status).toBe(400);
    expect(region.body.message).toContain('mars-north-1');
    expect(t.core.db.prepare('SELECT count(*) AS n FROM cloud_accounts').get()).toEqual({ n: 0 });
    expect(t.lines.join('\n')).not.toContain('WrongSecret-4f9a1c');
    expect(JSON.stringify(t.core.db.prepare('SELECT * FROM audit_log').all())).not.toContain('WrongSecret-4f9a1c');
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM secrets WHERE id LIKE 'cloud:%'`).get()).toEqual({ n: 0 });

    const { id } = await add();
    const n = guestsOf(id).length;
    fake.expire(fake.accessKeyId);
    const s = await t.core.engine.waitFor((await t.call('clouds.syncNow', { id })).body.taskId);
    expect(s.status).toBe('failed');
    expect(s.error).toMatchObject({ code: 'forbidden', reason: 'credentials' });
    expect(s.error!.message).toContain('RequestExpired');
    const acc = (await t.call('clouds.account', { id })).body;
    expect(acc.account).toMatchObject({ health: 'error', stale: true });
    expect(acc.account.lastError).toContain('RequestExpired');
    expect(guestsOf(id).length).toBe(n);
    expect(guestsOf(id).every((g) => g.stale === 1 && g.status !== 'vanished')).toBe(true);
  });

  it('guest lifecycle through the common Guests actions, with termination protection and missing permission surfaced', async () => {
    fake = await startAwsFake({ defaultInstances: 12 });
    t = await testServer();
    const { id } = await add({ regions: ['us-east-1'] });
    const caps = (await t.call('system.capabilities', {})).body;
    void caps;
    const running = guestsOf(id).find((g) => g.status === 'running')!;
    const act = async (gid: string, action: string) => {
      const r = await t.call('guests.action', { id: gid, action });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return t.core.engine.waitFor(r.body.taskId);
    };
    expect((await act(running.id, 'stop')).status).toBe('succeeded');
    const cloudId = running.external_id.split('/').pop();
    expect(fake.region('us-east-1').instances.get(cloudId)!.state).toBe('stopped');
    expect(t.core.db.prepare('SELECT status FROM guests WHERE id = ?').get(running.id)).toEqual({ status: 'ready' });
    expect((await act(running.id, 'start')).status).toBe('succeeded');
    expect((await act(running.id, 'reboot')).status).toBe('succeeded');
    // Suspend is not something EC2 offers here: refused before any task.
    expect((await t.call('guests.action', { id: running.id, action: 'suspend' })).body.code).toBe('not_supported');
    // Termination protection.
    fake.region('us-east-1').instances.get(cloudId)!.disableApiTermination = true;
    const del = await act(running.id, 'delete');
    expect(del.status).toBe('failed');
    expect(del.error).toMatchObject({ code: 'conflict', reason: 'termination_protection' });
    expect(fake.region('us-east-1').instances.get(cloudId)!.state).toBe('running');
    fake.region('us-east-1').instances.get(cloudId)!.disableApiTermination = false;
    expect((await act(running.id, 'delete')).status).toBe('succeeded');
    expect(fake.region('us-east-1').instances.get(cloudId)!.state).toBe('terminated');
    expect(t.core.db.prepare('SELECT 1 FROM guests WHERE id = ?').get(running.id)).toBeUndefined();
    // Missing permission: the cloud's own code on the task.
    const other = guestsOf(id).find((g) => g.status === 'running')!;
    fake.deny(fake.accessKeyId, ['StopInstances']);
    const denied = await act(other.id, 'stop');
    expect(denied.status).toBe('failed');
    expect(denied.error).toMatchObject({ code: 'forbidden', reason: 'permission' });
    expect(denied.error!.message).toContain('UnauthorizedOperation');
  });

  it('operations: resize, create (quota and type-not-offered errors), disks, snapshots, EIPs, security group rules', async () => {
    fake = await startAwsFake({ defaultInstances: 10, instanceLimit: 11, offeredTypes: ['t3.micro', 'm5.large', 'm5.xlarge'] });
    t = await testServer();
    const { id } = await add({ regions: ['us-east-1'] });
    const r = fake.region('us-east-1');
    const run = async (cmd: string, input: unknown) => {
      const res = await t.call(cmd, input);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return t.core.engine.waitFor(res.body.taskId);
    };
    const stopped = guestsOf(id).find((g) => g.status === 'ready')!;
    expect((await run('clouds.resizeGuest', { id: stopped.id, instanceType: 'm5.xlarge' })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT instance_type FROM guests WHERE id = ?').get(stopped.id)).toEqual({ instance_type: 'm5.xlarge' });
    const runningG = guestsOf(id).find((g) => g.status === 'running')!;
    const bad = await run('clouds.resizeGuest', { id: runningG.id, instanceType: 'm5.xlarge' });
    expect(bad.error).toMatchObject({ code: 'conflict', reason: 'IncorrectInstanceState' });

    const image = [...r.images.keys()][0]!;
    const subnet = [...r.subnets.keys()][0]!;
    const made = await run('clouds.createGuest', { accountId: id, region: 'us-east-1', name: 'new-vm', imageId: image, instanceType: 't3.micro', subnetId: subnet, diskGb: 20 });
    expect(made.status, JSON.stringify(made.error)).toBe('succeeded');
    expect(guestsOf(id).find((g) => g.name === 'new-vm')).toBeTruthy();
    const quota = await run('clouds.createGuest', { accountId: id, region: 'us-east-1', name: 'one-too-many', imageId: image, instanceType: 't3.micro' });
    expect(quota.error).toMatchObject({ code: 'conflict', reason: 'InstanceLimitExceeded' });
    const notOffered = await run('clouds.createGuest', { accountId: id, region: 'us-east-1', name: 'big', imageId: image, instanceType: 'c5.2xlarge' });
    expect(notOffered.error).toMatchObject({ code: 'conflict', reason: 'Unsupported' });
    expect(guestsOf(id).length).toBe(11);

    // Disks: detach the new VM's disk, attach it again, snapshot it, delete the snapshot.
    const newVm = guestsOf(id).find((g) => g.name === 'new-vm')!;
    const disk = t.core.db.prepare('SELECT * FROM disks WHERE guest_id = ?').get(newVm.id) as Record<string, any>;
    expect(disk.size_gb).toBe(20);
    expect((await run('clouds.detachDisk', { diskId: disk.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM disks WHERE id = ?').get(disk.id)).toEqual({ guest_id: null });
    expect((await run('clouds.attachDisk', { diskId: disk.id, guestId: newVm.id, device: '/dev/xvdf' })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM disks WHERE id = ?').get(disk.id)).toEqual({ guest_id: newVm.id });
    expect((await run('clouds.createSnapshot', { diskId: disk.id, name: 'before-upgrade' })).status).toBe('succeeded');
    const snap = t.core.db.prepare('SELECT * FROM snapshots WHERE disk_id = ?').get(disk.id) as Record<string, any>;
    expect(snap.name).toBe('before-upgrade');
    expect((await run('clouds.deleteSnapshot', { id: snap.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT 1 FROM snapshots WHERE id = ?').get(snap.id)).toBeUndefined();

    // EIP
    const eip = t.core.db.prepare(`SELECT * FROM eips WHERE cloud_account_id = ? ORDER BY ip LIMIT 1`).get(id) as Record<string, any>;
    expect((await run('clouds.associateEip', { eipId: eip.id, guestId: newVm.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id, status FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: newVm.id, status: 'associated' });
    expect((await run('clouds.dissociateEip', { eipId: eip.id })).status).toBe('succeeded');
    expect(t.core.db.prepare('SELECT guest_id FROM eips WHERE id = ?').get(eip.id)).toEqual({ guest_id: null });

    // Security group rules
    const sg = t.core.db.prepare(`SELECT id FROM security_groups WHERE cloud_account_id = ?`).get(id) as { id: string };
    expect((await run('clouds.addRule', { groupId: sg.id, protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    const rules = () => t.core.db.prepare(`SELECT direction, protocol, ports, cidr FROM security_group_rules WHERE group_id = ? ORDER BY priority`).all(sg.id);
    expect(rules()).toContainEqual({ direction: 'in', protocol: 'tcp', ports: '443', cidr: '10.0.0.0/8' });
    const dup = await run('clouds.addRule', { groupId: sg.id, protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '10.0.0.0/8' });
    expect(dup.error).toMatchObject({ reason: 'InvalidPermission.Duplicate' });
    expect((await run('clouds.removeRule', { groupId: sg.id, protocol: 'tcp', fromPort: 443, toPort: 443, cidr: '10.0.0.0/8' })).status).toBe('succeeded');
    expect(rules()).not.toContainEqual({ direction: 'in', protocol: 'tcp', ports: '443', cidr: '10.0.0.0/8' });
  });

  it('updates regions (dropping what an unpicked region held), interval and name; removes an account and all it listed', async () => {
    fake = await startAwsFake({ defaultInstances: 5 });
    t = await testServer();
    const { id } = await add();
    expect(guestsOf(id).length).toBe(8);
    const u = await t.call('clouds.update', { id, regions: ['us-east-1'], syncIntervalMinutes: 60, name: 'renamed' });
    expect(u.status, JSON.stringify(u.body)).toBe(200);
    expect(u.body.account).toMatchObject({ name: 'renamed', syncIntervalMinutes: 60, regions: ['us-east-1'] });
    expect(guestsOf(id).length).toBe(5);
    const nowhere = await t.call('clouds.update', { id, regions: ['nowhere-1'] });
    expect(nowhere.status, JSON.stringify(nowhere.body)).toBe(400);
    // The periodic sync: not due right after a sync; due once the interval has passed since the last sync and task.
    expect(t.core.clouds.dueAccounts()).toEqual([]);
    const old = new Date(Date.now() - 61 * 60_000).toISOString();
    t.core.db.prepare('UPDATE cloud_accounts SET last_sync_at = ? WHERE id = ?').run(old, id);
    expect(t.core.clouds.dueAccounts()).toEqual([]);
    t.core.db.prepare(`UPDATE tasks SET created_at = ? WHERE type = 'clouds.sync'`).run(old);
    expect(t.core.clouds.dueAccounts()).toEqual([id]);
    const p = (await t.call('clouds.providers', {})).body;
    expect(p.items.find((x: any) => x.provider === 'aws').capabilities.operations).toContain('resize');
    expect((await t.call('clouds.remove', { id })).status).toBe(200);
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM guests WHERE provider = 'aws'`).get()).toEqual({ n: 0 });
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM disks WHERE provider = 'aws'`).get()).toEqual({ n: 0 });
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM regions`).get()).toEqual({ n: 0 });
    expect(t.core.db.prepare(`SELECT count(*) AS n FROM secrets WHERE id LIKE 'cloud:%'`).get()).toEqual({ n: 0 });
  });
});

describe('lazy SDK', () => {
  beforeAll(() => {});
  it('the clouds module does not import the SDK until a session opens', () => {
    const src = readFileSync(join(import.meta.dirname, 'index.ts'), 'utf8');
    expect(src).not.toMatch(/^import [^t].*@aws-sdk/m);
    for (const f of ['../service.ts', '../sync.ts', '../registry.ts', '../handlers.ts', '../types.ts', '../retry.ts']) expect(readFileSync(join(import.meta.dirname, f), 'utf8')).not.toMatch(/from '@aws-sdk/);
  });
});
