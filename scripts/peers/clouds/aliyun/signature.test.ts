/**
 * Alibaba Cloud signatures (./signature.mjs) against the examples Alibaba publishes.
 */
import { describe, expect, it } from 'vitest';
import { acs3CanonicalRequest, acs3StringToSign, canonicalQueryString, percentEncode, rpcSignature, rpcStringToSign, sha256Hex, signAcs3, signRpc } from './signature.mjs';

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('Alibaba Cloud V3 signature (ACS3-HMAC-SHA256)', () => {
  // The fixed-parameter example of "V3版本请求体&签名机制" (https://help.aliyun.com/document_detail/2593177.html, section
  // 签名示例): AccessKeyId YourAccessKeyId, AccessKeySecret YourAccessKeySecret, POST ecs.cn-shanghai.aliyuncs.com
  // RunInstances 2014-05-26 with ImageId and RegionId in the query, x-acs-date 2023-10-26T10:22:32Z, nonce
  // 3156853299f313e23d1673dc12e1703d, empty body; HashedCanonicalRequest 7ea06492…, Signature 06563a9e….
  const vector = {
    host: 'ecs.cn-shanghai.aliyuncs.com', action: 'RunInstances', version: '2014-05-26',
    query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
    accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret', date: '2023-10-26T10:22:32Z', nonce: '3156853299f313e23d1673dc12e1703d',
  };

  it('reproduces the documented canonical request, string to sign and Authorization', () => {
    const s = signAcs3(vector);
    expect(s.canonicalRequest).toBe([
      'POST', '/', 'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
      'host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n' + `x-acs-content-sha256:${EMPTY}\n`
        + 'x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n',
      'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version', EMPTY,
    ].join('\n'));
    expect(sha256Hex(s.canonicalRequest)).toBe('7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
    expect(s.stringToSign).toBe('ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259');
    expect(s.headers.authorization).toBe('ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;'
      + 'x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0');
  });

  it('canonicalises what a server receives: header case, order and surrounding spaces do not matter', () => {
    const s = signAcs3(vector);
    const received = Object.fromEntries(Object.entries(s.headers).reverse().map(([k, v]) => [k.toUpperCase(), ` ${v} `]));
    const { canonicalRequest } = acs3CanonicalRequest({ method: 'post', path: '/', query: [['RegionId', 'cn-shanghai'], ['ImageId', vector.query.ImageId]], headers: received, hashedPayload: EMPTY });
    expect(acs3StringToSign(canonicalRequest)).toBe(s.stringToSign);
  });

  it('percent-encodes as RFC 3986 with Alibaba’s rules', () => {
    expect(percentEncode("a b*c~d!'()/é")).toBe('a%20b%2Ac~d%21%27%28%29%2F%C3%A9');
    expect(canonicalQueryString({ b: '2', a: 'x y', 'Tag.1.Key': 'k' })).toBe('Tag.1.Key=k&a=x%20y&b=2');
  });
});

describe('Alibaba Cloud V2 RPC signature (HMAC-SHA1)', () => {
  // The worked example of Alibaba Cloud's "Request signature" page for RPC APIs (the ECS API reference's signature page,
  // section "Example"; its successor is "V2版本RPC风格请求体&签名机制", https://help.aliyun.com/document_detail/25490.htm):
  // AccessKeyId testid, AccessKeySecret testsecret, unsigned URL http://ecs.aliyuncs.com/?Timestamp=2016-02-23T12:46:24Z&
  // Format=XML&AccessKeyId=testid&Action=DescribeRegions&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-
  // 4e0ad82fd6cf&Version=2014-05-26&SignatureVersion=1.0; "The signature string calculated by using testsecret& is
  // OLeaidS1JvxuMvnyHOwuJ+uX5qY=". (The string to sign below follows from the documented rules and that signature.)
  const params = {
    Timestamp: '2016-02-23T12:46:24Z', Format: 'XML', AccessKeyId: 'testid', Action: 'DescribeRegions', SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', Version: '2014-05-26', SignatureVersion: '1.0',
  };

  it('reproduces the documented signature', () => {
    expect(rpcStringToSign('GET', params)).toBe('GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1'
      + '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26');
    expect(rpcSignature('GET', params, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    // Signature itself is never part of what is signed.
    expect(rpcSignature('GET', { ...params, Signature: 'x' }, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('signs a whole request with the common parameters', () => {
    const q = signRpc({ action: 'DescribeRegions', version: '2014-05-26', accessKeyId: 'testid', accessKeySecret: 'testsecret',
      timestamp: params.Timestamp, nonce: params.SignatureNonce, params: { Format: 'XML' } });
    expect(q.Signature).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });
});
