import { AppApiKey } from './app-api-key.entity';
import { OutboxEvent } from './outbox-event.entity';
import { ScheduledCall } from './scheduled-call.entity';
import { VideoApp } from './video-app.entity';
import { WebhookAttempt, WebhookDelivery } from './webhook-delivery.entity';
import { WebhookSubscription } from './webhook-subscription.entity';

export * from './app-api-key.entity';
export * from './outbox-event.entity';
export * from './scheduled-call.entity';
export * from './video-app.entity';
export * from './webhook-delivery.entity';
export * from './webhook-subscription.entity';

export const ENTITIES = [VideoApp, AppApiKey, ScheduledCall, OutboxEvent, WebhookSubscription, WebhookDelivery, WebhookAttempt];
