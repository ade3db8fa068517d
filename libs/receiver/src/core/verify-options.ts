/**
 * Verification options and their validation, shared by the Node verifier (`core/verify.ts`) and the
 * WebCrypto one (`web/webcrypto-verify.ts`), so both refuse the same misconfigurations with the same
 * messages. No `node:` import and no `Buffer`: the WebCrypto entry loads this on any runtime.
 */
import { Defaults } from './constants.js';
import { WebhookError } from './errors.js';

export interface VerifyOptions {
  /**
   * The subscription secret, or several: during a rotation configure the new one and the old one.
   * Each is used as an opaque string (its UTF-8 bytes, `whsec_` prefix included, are the HMAC key).
   */
  secret?: string | readonly string[];
  /** Same as `secret`, for readability when passing a list. */
  secrets?: readonly string[];
  /** How far in the past the signed `deliveredAt` may lie. Default 5 minutes. */
  toleranceMs?: number;
  /** How far in the future the signed `deliveredAt` may lie (clock skew). Default 60 s. */
  futureToleranceMs?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  now?: () => number | Date;
  /** Largest body accepted. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface ResolvedVerifyOptions {
  secrets: readonly string[];
  toleranceMs: number;
  futureToleranceMs: number;
  now: () => number;
  maxBodyBytes: number;
}

export function resolveVerifyOptions(options: VerifyOptions): ResolvedVerifyOptions {
  if (options == null || typeof options !== 'object') throw new TypeError('@apifycloud/webhook-receiver: options with a `secret` are required.');
  const raw = options.secrets ?? options.secret;
  const secrets = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? [...(raw as readonly unknown[])] : [];
  if (secrets.length === 0) {
    throw new TypeError('@apifycloud/webhook-receiver: no webhook secret configured. Pass `secret` (is the environment variable that holds it set?).');
  }
  secrets.forEach((secret, index) => {
    if (typeof secret !== 'string' || secret.length === 0) {
      throw new TypeError(`@apifycloud/webhook-receiver: secret #${index} is empty or not a string (is the environment variable that holds it set?).`);
    }
    // A trailing newline from a secrets file is the classic cause of "every signature is invalid".
    if (secret.trim() !== secret) {
      throw new TypeError(`@apifycloud/webhook-receiver: secret #${index} has leading or trailing whitespace; ApifyCloud secrets never do.`);
    }
  });
  const now = options.now;
  return {
    secrets: secrets as string[],
    toleranceMs: nonNegative(options.toleranceMs, Defaults.toleranceMs, 'toleranceMs'),
    futureToleranceMs: nonNegative(options.futureToleranceMs, Defaults.futureToleranceMs, 'futureToleranceMs'),
    maxBodyBytes: nonNegative(options.maxBodyBytes, Defaults.maxBodyBytes, 'maxBodyBytes'),
    now: now
      ? () => {
          const t = now();
          return typeof t === 'number' ? t : t.getTime();
        }
      : Date.now,
  };
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`@apifycloud/webhook-receiver: ${name} must be a non-negative number.`);
  return value;
}

/**
 * The replay window on the signed `deliveredAt`, the same check in both verifiers.
 * Throws `stale_delivery` / `future_delivery`.
 */
export function checkFreshness(options: Pick<ResolvedVerifyOptions, 'now' | 'toleranceMs' | 'futureToleranceMs'>, deliveredAt: number): void {
  const now = options.now();
  if (now - deliveredAt > options.toleranceMs) {
    throw new WebhookError(
      'stale_delivery',
      `Delivered ${Math.round((now - deliveredAt) / 1000)} s ago; the replay window is ${Math.round(options.toleranceMs / 1000)} s.`,
    );
  }
  if (deliveredAt - now > options.futureToleranceMs) {
    throw new WebhookError('future_delivery', `deliveredAt is ${Math.round((deliveredAt - now) / 1000)} s ahead of this receiver's clock.`);
  }
}
