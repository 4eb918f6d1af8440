export { EventSources, EventTypes, type EventType } from './event-types.ts';
export {
  createLogger,
  silentLogger,
  type LogFields,
  type LogLevel,
  type Logger,
} from './logger.ts';
export {
  HttpProblem,
  methodNotAllowed,
  problemHandler,
  problemMediaType,
  problemResponse,
  toProblem,
  type FieldError,
  type ProblemBody,
} from './problem.ts';
export {
  ConfigError,
  httpUrl,
  intVar,
  logLevelVar,
  readConfig,
  requiredVar,
  transportKeysVar,
  type Env,
} from './config.ts';
export {
  binaryAttribute,
  emitEvent,
  isCloudEventRequest,
  isJsonMediaType,
  mediaTypeEssence,
  percentEncode,
  readCloudEvent,
  toBinary,
  type OutgoingEvent,
  type ReceivedEvent,
  type SinkAnswer,
} from './cloudevents.ts';
export { guardBody } from './body-guard.ts';
export {
  post,
  PostError,
  type PostAnswer,
  type PostFailure,
  type PostOptions,
} from './http-post.ts';
export { listen, type ListenOptions } from './listen.ts';
export { AddressError, formatMailbox, toMailableAddress } from './mailbox.ts';
export { controlCharacters, fieldErrors, parseOrThrow } from './validation.ts';
export {
  decodeShareToken,
  encodeShareToken,
  extractShareTokens,
  ShareTokenError,
  type ShareToken,
} from './share-token.ts';
export {
  CombineError,
  combineShares,
  generateCeremonyKey,
  identifyKey,
  splitKey,
  type CombinedKey,
  type KeyIdentity,
} from './ceremony-key.ts';
export {
  newTransportKeyEntry,
  openSeal,
  parseTransportKeys,
  seal,
  SealError,
  type SealBinding,
  type TransportKey,
} from './seal.ts';
export {
  CeremonyVoidedDataSchema,
  maxShareEventBytes,
  SealedShareSchema,
  ShareIssuedDataSchema,
  VoidSealSchema,
  type CeremonyVoidedData,
  type SealedShare,
  type ShareIssuedData,
  type ShareOutcomeData,
  type VoidSeal,
} from './share-event.ts';
export {
  AgeShareError,
  ageRecipientProblem,
  encryptShareToAge,
  openAgeShare,
  parseAgeIdentities,
} from './age-share.ts';
