import { describe, expect, it } from 'vitest';
import { desEncryptBlock, vncAuthResponse } from './des';

describe('DES for VNC authentication', () => {
  it('matches the classic worked example and the NBS validation vectors', () => {
    expect(desEncryptBlock(Buffer.from('133457799BBCDFF1', 'hex'), Buffer.from('0123456789ABCDEF', 'hex')).toString('hex')).toBe('85e813540f0ab405');
    // FIPS 81 / SP 800-17 variable-plaintext known answers: key 0101…01 (parity only), plaintext 8000…00.
    expect(desEncryptBlock(Buffer.from('0101010101010101', 'hex'), Buffer.from('8000000000000000', 'hex')).toString('hex')).toBe('95f8a5e5dd31d900');
    expect(desEncryptBlock(Buffer.from('0101010101010101', 'hex'), Buffer.from('0000000000000001', 'hex')).toString('hex')).toBe('166b40b44aba4bd6');
  });

  it('mirrors the key bits and pads the password as VNC does', () => {
    const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    // "pass" mirrored: p=0x70→0x0e, a=0x61→0x86, s=0x73→0xce; padded with zeros to 8 bytes.
    const key = Buffer.from([0x0e, 0x86, 0xce, 0xce, 0, 0, 0, 0]);
    const expected = Buffer.concat([desEncryptBlock(key, challenge.subarray(0, 8)), desEncryptBlock(key, challenge.subarray(8))]);
    expect(vncAuthResponse('pass', challenge)).toEqual(expected);
    // Only the first 8 characters count.
    expect(vncAuthResponse('12345678', challenge)).toEqual(vncAuthResponse('123456789', challenge));
    expect(() => vncAuthResponse('x', Buffer.alloc(8))).toThrow('16 bytes');
  });
});
