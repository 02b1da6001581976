/**
 * Tencent Cloud TC3-HMAC-SHA256 (./signature.mjs) against the examples Tencent publishes.
 */
import { describe, expect, it } from 'vitest';
import { parseTc3Authorization, sha256Hex, signTc3, tc3CanonicalRequest, tc3Signature, tc3StringToSign } from './signature.mjs';

describe('Tencent Cloud TC3-HMAC-SHA256', () => {
  // The example of Tencent Cloud's "Signature v3" / "签名方法 v3" document (CVM API reference,
  // https://cloud.tencent.com/document/api/213/30654): CVM DescribeInstances in ap-guangzhou, POST with the JSON body
  // {"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}, X-TC-Timestamp 1551113065,
  // SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******, SecretKey Gu5t9xGARNpq86cd98joQYCN3******* (the document signs with
  // these literal masked strings); HashedRequestPayload 35e9c5b0…, HashedCanonicalRequest 5ffe6a04…, Signature 2230eefd….
  // The inputs are those of TencentCloud/signature-process-demo cvm/signature-v3/python/demo.py.
  const payload = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';

  it('reproduces the documented POST example', () => {
    const s = signTc3({ secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******', service: 'cvm',
      host: 'cvm.tencentcloudapi.com', action: 'DescribeInstances', version: '2017-03-12', region: 'ap-guangzhou', timestamp: 1551113065, payload });
    expect(sha256Hex(payload)).toBe('35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
    expect(s.canonicalRequest).toBe('POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n'
      + '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
    expect(s.stringToSign).toBe('TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    expect(s.signature).toBe('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
    expect(s.headers.Authorization).toBe('TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, '
      + 'SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
    expect(s.headers).toMatchObject({ 'X-TC-Action': 'DescribeInstances', 'X-TC-Version': '2017-03-12', 'X-TC-Timestamp': '1551113065', 'X-TC-Region': 'ap-guangzhou' });
  });

  // The earlier edition of the same document (English "Signature v3", CVM): GET https://cvm.tencentcloudapi.com/?Limit=10&Offset=0,
  // X-TC-Timestamp 1539084154, SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE;
  // HashedCanonicalRequest 91c9c192…, Signature 5da7a33f…. (Its printed canonical request shows host:cvm.api.tencentyun.com,
  // but the published hash and signature are those of host:cvm.tencentcloudapi.com, the host of the complete call it shows.)
  it('reproduces the earlier documented GET example', () => {
    const s = signTc3({ secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE', service: 'cvm', method: 'GET',
      query: 'Limit=10&Offset=0', host: 'cvm.tencentcloudapi.com', action: 'DescribeInstances', version: '2017-03-12', region: 'ap-guangzhou', timestamp: 1539084154 });
    expect(s.stringToSign).toBe('TC3-HMAC-SHA256\n1539084154\n2018-10-09/cvm/tc3_request\n91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7');
    expect(s.headers.Authorization).toBe('TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2018-10-09/cvm/tc3_request, '
      + 'SignedHeaders=content-type;host, Signature=5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474');
  });

  it('canonicalises received headers (any case, spaces, order) and parses the Authorization back', () => {
    const s = signTc3({ secretId: 'AKIDx', secretKey: 'k', service: 'vpc', host: 'vpc.tencentcloudapi.com', action: 'DescribeVpcs', version: '2017-03-12', timestamp: 1700000000, payload: '{}', signAction: true });
    const received = { host: ' VPC.tencentcloudapi.com ', 'content-type': 'application/json; charset=utf-8', 'x-tc-action': 'DescribeVpcs' };
    const a = parseTc3Authorization(s.headers.Authorization);
    expect(a).toEqual({ secretId: 'AKIDx', date: '2023-11-14', service: 'vpc', signedHeaders: ['content-type', 'host', 'x-tc-action'], signature: s.signature });
    const cr = tc3CanonicalRequest({ method: 'post', headers: received, signedHeaders: a!.signedHeaders, payload: '{}' });
    expect(cr).toContain('x-tc-action:describevpcs\n');
    expect(tc3Signature('k', 1700000000, 'vpc', tc3StringToSign(1700000000, 'vpc', cr))).toBe(s.signature);
    expect(parseTc3Authorization('TC3-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00')).toBeNull();
  });
});
