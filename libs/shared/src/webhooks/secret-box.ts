import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 1;
const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes behind a prefix that secret scanners recognise. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Authenticated encryption of subscription secrets at rest (AES-256-GCM, key derived from
 * SECRETS_KEY). Layout: version (1) | iv (12) | tag (16) | ciphertext. The subscription id is bound
 * as associated data, so a ciphertext copied onto another row does not decrypt.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly cache = new Map<string, string>();

  constructor(secretsKey: string) {
    this.key = createHash('sha256').update(`scheduled-calls/secret-box/v1:${secretsKey}`).digest();
  }

  seal(plaintext: string, subscriptionId: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(subscriptionId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, subscriptionId: string): string {
    // Deliveries open the same few secrets over and over: remember them per ciphertext.
    const cacheKey = `${subscriptionId}:${sealed.toString('base64')}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached;
    if (sealed[0] !== VERSION || sealed.length < 29) throw new Error('unknown secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    decipher.setAAD(Buffer.from(subscriptionId));
    decipher.setAuthTag(sealed.subarray(13, 29));
    const plaintext = Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(cacheKey, plaintext);
    return plaintext;
  }
}
