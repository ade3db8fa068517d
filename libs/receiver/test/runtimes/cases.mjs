// Runs inside Deno, Bun, workerd (and Node, as the baseline). No imports: the verifier module is passed
// in, so the same file can be embedded as a workerd module. Returns one outcome per case.
export async function runCases(web, data) {
  const outcome = async (fn) => {
    try {
      const value = await fn();
      const event = typeof value.event === 'object' ? value.event : value;
      return { ok: true, id: event.id, type: event.event, signature: value.signature };
    } catch (error) {
      return { ok: false, code: error && error.code, name: error && error.name, isWebhookError: web.isWebhookError(error) };
    }
  };
  const { current, rotated, secret, oldSecret, otherSecret } = data;
  const without = (headers, name) => Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== name));
  const tampered = current.body.replace('"attempt":1', '"attempt":2');
  const verifier = web.createWebCryptoVerifier({ secrets: [otherSecret, secret] });
  const deliveredAtMs = Date.parse(JSON.parse(current.body).deliveredAt);
  return {
    runtime: typeof navigator === 'object' && navigator ? navigator.userAgent : 'unknown',
    hasBuffer: typeof globalThis.Buffer !== 'undefined',
    validBytes: await outcome(() => web.verifyWebhookAsync(new TextEncoder().encode(current.body), current.headers, { secrets: [secret] })),
    validStringFetchHeaders: await outcome(() => verifier.verify(current.body, new Headers(current.headers))),
    previousHeader: await outcome(() => web.createWebCryptoVerifier({ secrets: [oldSecret] }).verify(rotated.body, rotated.headers)),
    tampered: await outcome(() => web.verifyWebhookAsync(tampered, current.headers, { secrets: [secret] })),
    wrongSecret: await outcome(() => web.verifyWebhookAsync(current.body, current.headers, { secrets: [otherSecret] })),
    missingSignature: await outcome(() => web.verifyWebhookAsync(current.body, without(current.headers, 'x-apifycloud-signature'), { secrets: [secret] })),
    malformedSignature: await outcome(() => web.verifyWebhookAsync(current.body, { ...without(current.headers, 'x-apifycloud-signature'), 'X-ApifyCloud-Signature': 'sha256=zz' }, { secrets: [secret] })),
    stale: await outcome(() => web.verifyWebhookAsync(current.body, current.headers, { secrets: [secret], toleranceMs: 60_000, now: () => deliveredAtMs + 10 * 60_000 })),
    future: await outcome(() => web.verifyWebhookAsync(current.body, current.headers, { secrets: [secret], now: () => deliveredAtMs - 10 * 60_000 })),
    headerMismatch: await outcome(() => web.verifyWebhookAsync(current.body, { ...current.headers, 'X-ApifyCloud-Event-Id': 'evt_other' }, { secrets: [secret] })),
  };
}
