// The real Alibaba Cloud SDK (@alicloud/ecs20140526 on @alicloud/openapi-client) against the Alibaba fake: the fake
// checks the SDK's ACS3-HMAC-SHA256 signatures with its own implementation.
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { Config } from '@alicloud/openapi-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAliyunFake, type AliyunFake } from './fake.mjs';

let fake: AliyunFake;
beforeAll(async () => {
  fake = await startAliyunFake({ instances: 1200, regions: 2, transitionMs: 0 });
});
afterAll(async () => fake?.close());

const ecs = (secret = fake.accessKeySecret) => new Ecs(new Config({ accessKeyId: fake.accessKeyId, accessKeySecret: secret, endpoint: fake.endpoint, protocol: 'HTTP', regionId: fake.regions[0] }));

it('pages through a region\'s instances and starts one, every request signed and verified', async () => {
  const region = fake.regions[0]!;
  const ids = new Set<string>();
  let total: number;
  for (let page = 1; ; page++) {
    const r = await ecs().describeInstances(new $Ecs.DescribeInstancesRequest({ regionId: region, pageSize: 100, pageNumber: page }));
    total = r.body?.totalCount ?? 0;
    const items = r.body?.instances?.instance ?? [];
    for (const i of items) ids.add(String(i.instanceId));
    if (items.length < 100) break;
  }
  expect(total).toBeGreaterThan(100); // several pages
  expect(ids.size).toBe(total);
  expect(total).toBe(fake.state.instances().filter((i) => i.RegionId === region).length);
  expect(fake.requests.every((q) => q.signature === 'ACS3-HMAC-SHA256' && q.status === 200)).toBe(true);
  const stopped = fake.state.instances().find((i) => i.RegionId === region && i.Status === 'Stopped');
  expect(stopped).toBeDefined();
  await ecs().startInstance(new $Ecs.StartInstanceRequest({ instanceId: stopped.InstanceId }));
  await expect.poll(() => fake.state.instance(stopped.InstanceId)?.Status).toBe('Running');
});

it("answers a wrong secret and throttling with the cloud's own codes", async () => {
  await expect(ecs('not-the-secret').describeRegions(new $Ecs.DescribeRegionsRequest({}))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  fake.inject({ kind: 'throttle', action: 'DescribeRegions' });
  await expect(ecs().describeRegions(new $Ecs.DescribeRegionsRequest({}))).rejects.toMatchObject({ code: 'Throttling.User' });
  expect((await ecs().describeRegions(new $Ecs.DescribeRegionsRequest({}))).body?.regions?.region?.length).toBe(fake.regions.length);
});
