import type { WebhookAttempt, WebhookDelivery, WebhookSubscription } from '@app/shared/entities';
import { autoPauseAt, circuitView, HealthRules } from '@app/shared/webhooks/subscription-health';
import type {
  LastDeliveryResponse,
  SubscriptionHealthResponse,
  WebhookAttemptResponse,
  WebhookDeliveryResponse,
  WebhookSubscriptionResponse,
} from './dto/webhook.dto';

/** What the subscription's response needs besides its row. */
export interface SubscriptionExtras {
  lastDelivery: WebhookDelivery | null;
  heldCount: number;
  rules: HealthRules;
  now: Date;
}

/** What leaves the API about a subscription: never its secret (see the create and rotate responses). */
export function toSubscriptionResponse(sub: WebhookSubscription, extras: SubscriptionExtras): WebhookSubscriptionResponse {
  const { lastDelivery, now } = extras;
  return {
    id: sub.id,
    app_id: sub.appId,
    url: sub.url,
    events: sub.events,
    description: sub.description,
    status: sub.status,
    paused_reason: sub.pausedReason,
    last_delivery: lastDelivery ? toLastDelivery(lastDelivery) : null,
    rate_limit_per_second: sub.rateLimitPerSecond,
    health: toHealth(sub, extras),
    previous_secret_expires_at: sub.previousSecretExpiresAt && sub.previousSecretExpiresAt > now ? sub.previousSecretExpiresAt.toISOString() : null,
    created_at: sub.createdAt.toISOString(),
    updated_at: sub.updatedAt.toISOString(),
  };
}

function toHealth(sub: WebhookSubscription, { heldCount, rules, now }: SubscriptionExtras): SubscriptionHealthResponse {
  const circuit = circuitView(sub, now);
  const pauseAt = autoPauseAt(sub, rules);
  return {
    consecutive_failures: sub.consecutiveFailures,
    failing_since: sub.failingSince ? sub.failingSince.toISOString() : null,
    auto_pause_at: pauseAt ? pauseAt.toISOString() : null,
    circuit,
    circuit_retry_at: circuit === 'open' && sub.circuitRetryAt ? sub.circuitRetryAt.toISOString() : null,
    held_count: heldCount,
  };
}

function toLastDelivery(delivery: WebhookDelivery): LastDeliveryResponse {
  return {
    id: delivery.id,
    event: delivery.event,
    scheduled_call_id: delivery.scheduledCallId,
    event_at: delivery.eventAt.toISOString(),
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    response_status: delivery.lastResponseStatus,
    at: delivery.updatedAt.toISOString(),
  };
}

/** A delivery as lists and reads show it; `guestName` is its booking's guest (null for a test send, or a booking not loaded). */
export function toDeliveryResponse(delivery: WebhookDelivery, guestName: string | null): WebhookDeliveryResponse {
  return {
    id: delivery.id,
    subscription_id: delivery.subscriptionId,
    event_id: delivery.eventId,
    event: delivery.event,
    scheduled_call_id: delivery.scheduledCallId,
    event_at: delivery.eventAt.toISOString(),
    test: delivery.nextTrigger === 'test',
    guest_name: guestName,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt_at: delivery.nextAttemptAt ? delivery.nextAttemptAt.toISOString() : null,
    last_response_status: delivery.lastResponseStatus,
    created_at: delivery.createdAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
  };
}

/** `requestBody` is the body rebuilt from the event's stored payload (see WebhookDeliveriesService.get). */
export function toAttemptResponse(attempt: WebhookAttempt, requestBody: string | null): WebhookAttemptResponse {
  return {
    attempt: attempt.attempt,
    trigger: attempt.trigger,
    started_at: attempt.startedAt.toISOString(),
    duration_ms: attempt.durationMs,
    request_headers: attempt.requestHeaders,
    request_body: requestBody,
    response_status: attempt.responseStatus,
    response_headers: attempt.responseHeaders,
    response_body: attempt.responseBody,
    error: attempt.error,
  };
}
