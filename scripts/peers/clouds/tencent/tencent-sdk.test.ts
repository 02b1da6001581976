// The real Tencent Cloud SDK (tencentcloud-sdk-nodejs-cvm) against the Tencent fake: the fake checks the SDK's
// TC3-HMAC-SHA256 signatures with its own implementation.
import { cvm } from 'tencentcloud-sdk-nodejs-cvm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTencentFake, type TencentFake } from './fake.mjs';

let fake: TencentFake;
beforeAll(async () => {
  fake = await startTencentFake({ instances: 1200, regions: 2, transitionMs: 0 });
});
afterAll(async () => fake?.close());

const client = (secretKey = fake.secretKey) =>
  new cvm.v20170312.Client({
    credential: { secretId: fake.secretId, secretKey },
    region: fake.regions[0]!,
    profile: { httpProfile: { endpoint: fake.endpoints.cvm, protocol: 'http://', agent: fake.agent } },
  });

it("pages through a region's instances and starts one, every request signed and verified", async () => {
  const region = fake.regions[0]!;
  const ids = new Set<string>();
  let total: number;
  for (let offset = 0; ; offset += 100) {
    const r = await client().DescribeInstances({ Offset: offset, Limit: 100 });
    total = r.TotalCount ?? 0;
    for (const i of r.InstanceSet ?? []) ids.add(String(i.InstanceId));
    if ((r.InstanceSet ?? []).length < 100) break;
  }
  expect(total).toBeGreaterThan(100); // several pages
  expect(ids.size).toBe(total);
  expect(total).toBe(fake.state.instances().filter((i) => i.Region === region).length);
  const stopped = fake.state.instances().find((i) => ids.has(i.InstanceId) && i.InstanceState === 'STOPPED');
  expect(stopped).toBeDefined();
  await client().StartInstances({ InstanceIds: [stopped.InstanceId] });
  await expect.poll(() => fake.state.instance(stopped.InstanceId)?.InstanceState).toBe('RUNNING');
});

it("answers a wrong key and throttling with the cloud's own codes", async () => {
  await expect(client('not-the-key').DescribeRegions()).rejects.toMatchObject({ code: 'AuthFailure.SignatureFailure' });
  fake.inject({ kind: 'throttle', action: 'DescribeRegions' });
  await expect(client().DescribeRegions()).rejects.toMatchObject({ code: 'RequestLimitExceeded' });
  expect((await client().DescribeRegions()).RegionSet?.length).toBe(fake.regions.length);
});
