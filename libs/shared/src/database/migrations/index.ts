import { Foundation1764320000000 } from './1764320000000-foundation';
import { Webhooks1764330000000 } from './1764330000000-webhooks';
import { DeliveryIsolation1764340000000 } from './1764340000000-delivery-isolation';
import { ApiKeys1764350000000 } from './1764350000000-api-keys';
import { PartitionedHistory1764360000000 } from './1764360000000-partitioned-history';
import { DeliveryInspection1764370000000 } from './1764370000000-delivery-inspection';
import { TraceContext1764380000000 } from './1764380000000-trace-context';

/** Every migration, oldest first. Listed explicitly so builds and tests load the same set. */
export const MIGRATIONS = [
  Foundation1764320000000,
  Webhooks1764330000000,
  DeliveryIsolation1764340000000,
  ApiKeys1764350000000,
  PartitionedHistory1764360000000,
  DeliveryInspection1764370000000,
  TraceContext1764380000000,
];
