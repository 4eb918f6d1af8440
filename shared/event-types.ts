/**
 * The CloudEvent types Trikey emits and consumes. This is the one place they are spelled:
 * the broker bridge's triggers and the chart's Triggers are checked against it by tests.
 */
export const EventTypes = {
  ceremonyRequested: 'dev.trikey.ceremony.requested',
  shareIssued: 'dev.trikey.share.issued',
  shareDelivered: 'dev.trikey.share.delivered',
  shareFailed: 'dev.trikey.share.failed',
  ceremonyVoided: 'dev.trikey.ceremony.voided',
} as const;

/** One of Trikey's event type names. */
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** The `source` attribute of the events each function emits. */
export const EventSources = {
  generateKeys: '/trikey/generate-keys',
  dispatchEmail: '/trikey/dispatch-email',
} as const;
