export {
  createBroker,
  deadLetterExchangeName,
  deadLetterQueueName,
  deleteTopology,
  exchangeName,
  PublishError,
  statusStreamName,
  triggerQueueName,
  type Broker,
  type BrokerOptions,
  type PublishFailure,
} from './broker.ts';
export { readBridgeConfig, type BridgeConfig } from './config.ts';
export { deadLetterSinkUrl } from './dead-letter-sink.ts';
export { startDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.ts';
export { createIngressApp, type IngressOptions } from './ingress.ts';
export { readEventMessage, toBinaryHeaders, type BrokerMessage } from './message.ts';
export { acceptsEvent } from './routing.ts';
export { readCeremonyStatus, type StatusQuery } from './status.ts';
export { type CeremonyStatus, type ShareState, type ShareStatus } from './status-record.ts';
export { formatCeremonyStatus } from './status-table.ts';
export {
  backoffMs,
  DeliverySchema,
  DestinationSchema,
  loadTriggers,
  parseDuration,
  parseTriggers,
  StatusRecordSchema,
  TriggerListSchema,
  TriggerSchema,
  type Delivery,
  type Destination,
  type StatusRecord,
  type Trigger,
  type TriggerList,
} from './triggers.ts';
