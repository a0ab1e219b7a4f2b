/**
 * `customer.updated` events on Redis pub/sub, for the gateways (agent panels refresh the
 * customers a sync changed). One message per committed batch, published after COMMIT so a
 * subscriber that reads the unified view on receipt sees the batch.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../config/log.js';
import { CUSTOMER_UPDATED_CHANNEL, type CustomerUpdatedEvent } from './queue.js';
import type { CommittedBatch } from './run-sync.js';

/** The event of a batch, or null when it touched no customer (all records unchanged). */
export function customerUpdatedEvent(batch: CommittedBatch, at = new Date()): CustomerUpdatedEvent | null {
  if (batch.result.customerIds.length === 0) return null;
  return {
    type: 'customer.updated',
    customerIds: batch.result.customerIds,
    absorbed: batch.result.absorbed,
    source: batch.source,
    stream: batch.stream,
    runId: batch.runId,
    at: at.toISOString(),
  };
}

export interface PublisherOptions {
  /** @defaultValue CUSTOMER_UPDATED_CHANNEL (tests use their own) */
  channel?: string;
  log: Logger;
}

/**
 * A publisher for committed batches. A failed publish is logged, not thrown: the batch is
 * committed and its checkpoint moved, so failing the job would re-read nothing and the event
 * would be lost all the same; gateways also re-read a customer when a panel opens.
 */
export function customerEventPublisher(redis: Redis, options: PublisherOptions): (batch: CommittedBatch) => Promise<void> {
  const channel = options.channel ?? CUSTOMER_UPDATED_CHANNEL;
  return async (batch) => {
    const event = customerUpdatedEvent(batch);
    if (!event) return;
    try {
      await redis.publish(channel, JSON.stringify(event));
    } catch (err) {
      options.log.warn({ err, source: batch.source, stream: batch.stream, runId: batch.runId, customers: event.customerIds.length }, 'customer.updated not published');
    }
  };
}
