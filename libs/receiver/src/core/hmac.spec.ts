import * as nodeCrypto from 'node:crypto';
import { createHmac, randomBytes } from 'node:crypto';
import { HmacSha256, setHmacOneShotForTesting } from './hmac.js';

const KEY_LENGTHS = [0, 1, 2, 31, 32, 40, 63, 64, 65, 100, 128, 129, 300];
const BODY_LENGTHS = [0, 1, 55, 56, 63, 64, 65, 119, 120, 1024, 2047, 2048, 4096, 65_535, 65_536, 65_537, 100 * 1024];

function makeSut(key: Buffer) {
  return new HmacSha256(key);
}

function digestOf(sut: HmacSha256, body: Uint8Array): Buffer {
  const into = Buffer.alloc(32);
  sut.digestInto(body, into);
  return into;
}

const expected = (key: Buffer, body: Uint8Array) => createHmac('sha256', key).update(body).digest();

describe(HmacSha256.name, () => {
  describe.each([
    ['the one-shot crypto.hash path', true],
    ['the createHmac fallback', false],
  ])('%s', (_, oneShot) => {
    let previous: boolean;
    beforeEach(() => {
      previous = setHmacOneShotForTesting(oneShot);
    });
    afterEach(() => setHmacOneShotForTesting(previous));

    it.each(KEY_LENGTHS)('equals createHmac for a %i-byte key over bodies of every boundary length', (keyLength) => {
      for (let round = 0; round < 3; round++) {
        const key = randomBytes(keyLength);
        const sut = makeSut(key);
        for (const bodyLength of BODY_LENGTHS) {
          const body = randomBytes(bodyLength);

          expect(digestOf(sut, body).toString('hex')).toBe(expected(key, body).toString('hex'));
        }
      }
    });

    it('equals createHmac for many random keys and bodies, in any order of sizes', () => {
      for (let round = 0; round < 300; round++) {
        const key = randomBytes(Math.floor(Math.random() * 200));
        const body = randomBytes(Math.floor(Math.random() * 3000));
        const sut = makeSut(key);

        expect(digestOf(sut, body).equals(expected(key, body))).toBe(true);
      }
    });

    it('gives each key its own digest when several keys hash the same body in turn', () => {
      const keys = [randomBytes(40), randomBytes(64), randomBytes(90)];
      const suts = keys.map(makeSut);
      const body = randomBytes(1024);

      for (let round = 0; round < 3; round++) {
        suts.forEach((sut, i) => expect(digestOf(sut, body).equals(expected(keys[i]!, body))).toBe(true));
      }
    });

    it('hashes only the bytes of a Uint8Array view, not its whole backing buffer', () => {
      const key = randomBytes(43);
      const backing = randomBytes(2000);
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 17, 1000);

      expect(digestOf(makeSut(key), view).equals(expected(key, view))).toBe(true);
    });

    it('is not affected by a larger earlier body (stale scratch bytes)', () => {
      const key = randomBytes(43);
      const sut = makeSut(key);
      digestOf(sut, randomBytes(10_000));
      const small = randomBytes(10);

      expect(digestOf(sut, small).equals(expected(key, small))).toBe(true);
    });

    it('writes the 32 digest bytes at the start of the target and nothing beyond', () => {
      const key = randomBytes(43);
      const body = randomBytes(100);
      const into = Buffer.alloc(40, 0xaa);

      makeSut(key).digestInto(body, into);

      expect(into.subarray(0, 32).equals(expected(key, body))).toBe(true);
      expect(into.subarray(32).equals(Buffer.alloc(8, 0xaa))).toBe(true);
    });
  });

  it('uses the one-shot path on runtimes that have crypto.hash', () => {
    const hasOneShot = typeof (nodeCrypto as { hash?: unknown }).hash === 'function';

    expect(HmacSha256.oneShotWorks()).toBe(hasOneShot);
  });
});
