export {
  createBroker,
  deadLetterQueueName,
  deleteTopology,
  exchangeName,
  PublishError,
  triggerQueueName,
  type Broker,
  type BrokerOptions,
  type PublishFailure,
} from './broker.ts';
export { readBridgeConfig, type BridgeConfig } from './config.ts';
export { startDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher.ts';
export { createIngressApp, type IngressOptions } from './ingress.ts';
export { readEventMessage, toBinaryHeaders, type BrokerMessage } from './message.ts';
export {
  backoffMs,
  DeliverySchema,
  loadTriggers,
  parseDuration,
  parseTriggers,
  TriggerListSchema,
  TriggerSchema,
  type Delivery,
  type Trigger,
  type TriggerList,
} from './triggers.ts';
