// Runs inside Node, Deno, Bun and workerd. No imports: the `/web` module is passed in (resolved by
// each runtime from the installed package, or embedded for workerd), so the same file can be
// embedded as a workerd module. Returns one outcome per case, as JSON-friendly values.
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
  const { current, rotated, wrongShape, secret, oldSecret, otherSecret } = data;
  const without = (headers, name) => Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== name));
  const tampered = current.body.replace('"attempt":1', '"attempt":2');
  const verifier = web.createWebCryptoVerifier({ secrets: [otherSecret, secret] });
  const deliveredAtMs = Date.parse(JSON.parse(current.body).deliveredAt);

  const request = (delivery, body = delivery.body) => new Request('https://receiver.test/webhooks', { method: 'POST', headers: delivery.headers, body });
  const answer = async (handle, req) => {
    try {
      const response = await handle(req);
      const text = await response.text();
      const json = text === '' ? undefined : JSON.parse(text);
      return { status: response.status, code: json && json.error ? json.error.code : undefined, body: json && !json.error ? json : undefined };
    } catch (error) {
      // What the runtime's server would turn into a 500: the handler threw, so the key was released.
      return { threw: String(error && error.message) };
    }
  };

  // createWebhookHandler with the memory store: the receiver this runtime's build picks, then an explicit WebCrypto one.
  const handlerCases = async (options) => {
    const ran = [];
    const handle = web.createWebhookHandler({
      ...options,
      onError: () => undefined,
      handler: (webhook) => {
        ran.push(webhook.event.id);
      },
    });
    return {
      valid: await answer(handle, request(current)),
      ranAfterValid: [...ran],
      duplicate: await answer(handle, request(current)),
      tampered: await answer(handle, request(current, tampered)),
      wrongShape: await answer(handle, request(wrongShape)),
      ran,
    };
  };

  // Routing on a shared receiver: a route that fails once releases the key, so the retry runs it.
  const routed = [];
  let failures = 1;
  const receiver = web
    .createWebhookReceiver({ secrets: [secret], onError: () => undefined })
    .on('scheduled.cancelled', (event) => {
      routed.push(`cancelled ${event.payload.scheduled_call.cancelled_at}`);
      if (failures-- > 0) throw new Error('route failed');
    })
    .onAny((event) => {
      routed.push(`any ${event.event}`);
    });
  const routeHandler = web.createWebhookHandler({ receiver, handler: receiver.router() });

  return {
    runtime: typeof navigator === 'object' && navigator ? navigator.userAgent : 'unknown',
    hasBuffer: typeof globalThis.Buffer !== 'undefined',
    receiverKind: web.createWebhookReceiver({ secret }).constructor.name,
    handler: await handlerCases({ secret }),
    webCryptoHandler: await handlerCases({ receiver: new web.WebCryptoWebhookReceiver({ secret, onError: () => undefined }) }),
    routing: {
      failing: await answer(routeHandler, request(rotated)),
      retry: await answer(routeHandler, request(rotated)),
      duplicate: await answer(routeHandler, request(rotated)),
      routed,
    },
    validBytes: await outcome(() => web.verifyWebhookAsync(new TextEncoder().encode(current.body), current.headers, { secrets: [secret] })),
    validStringFetchHeaders: await outcome(() => verifier.verify(current.body, new Headers(current.headers))),
    previousHeader: await outcome(() => web.createWebCryptoVerifier({ secrets: [oldSecret] }).verify(rotated.body, rotated.headers)),
    tampered: await outcome(() => web.verifyWebhookAsync(tampered, current.headers, { secrets: [secret] })),
    wrongSecret: await outcome(() => web.verifyWebhookAsync(current.body, current.headers, { secrets: [otherSecret] })),
    missingSignature: await outcome(() => web.verifyWebhookAsync(current.body, without(current.headers, 'x-apifycloud-signature'), { secrets: [secret] })),
    malformedSignature: await outcome(() =>
      web.verifyWebhookAsync(
        current.body,
        { ...without(current.headers, 'x-apifycloud-signature'), 'X-ApifyCloud-Signature': 'sha256=zz' },
        { secrets: [secret] },
      ),
    ),
    stale: await outcome(() =>
      web.verifyWebhookAsync(current.body, current.headers, { secrets: [secret], toleranceMs: 60_000, now: () => deliveredAtMs + 10 * 60_000 }),
    ),
    future: await outcome(() => web.verifyWebhookAsync(current.body, current.headers, { secrets: [secret], now: () => deliveredAtMs - 10 * 60_000 })),
    headerMismatch: await outcome(() =>
      web.verifyWebhookAsync(current.body, { ...current.headers, 'X-ApifyCloud-Event-Id': 'evt_other' }, { secrets: [secret] }),
    ),
    wrongShapeVerify: await outcome(() => web.verifyWebhookAsync(wrongShape.body, wrongShape.headers, { secrets: [secret] })),
  };
}
