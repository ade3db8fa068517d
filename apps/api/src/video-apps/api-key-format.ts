import { createHash, randomBytes } from 'node:crypto';

/** Keys start with a recognisable marker, so secret scanners spot a leaked one. */
const KEY_MARKER = 'scw_ak_';
/** The marker and 6 random characters: enough to tell keys apart, far too little to guess one (36 of 256 bits). */
const PREFIX_LENGTH = KEY_MARKER.length + 6;
const MAX_KEY_LENGTH = 128;

/** The name POST /v1/apps gives the app's first key. */
export const DEFAULT_KEY_NAME = 'default';

/** A new key: the marker and 32 random bytes. */
export function generateApiKey(): string {
  return KEY_MARKER + randomBytes(32).toString('base64url');
}

/** Keys are stored and looked up as SHA-256 digests: a 256-bit random key needs no slow hash. */
export function digestApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Whether a presented token could be an app key at all (anything else is never looked up). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(KEY_MARKER) && token.length <= MAX_KEY_LENGTH;
}

/** The part of a key shown in lists and used to count failed attempts; null for tokens that are not keys. */
export function apiKeyPrefix(token: string): string | null {
  return looksLikeApiKey(token) ? token.slice(0, PREFIX_LENGTH) : null;
}
