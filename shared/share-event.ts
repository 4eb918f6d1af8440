import * as v from 'valibot';

/**
 * The largest share event generate-keys publishes and dispatch-email accepts, in bytes of its
 * JSON data. generate-keys' largest request (128 KiB) makes events well under it, and it checks
 * each event against it before it answers 202, so an accepted share is never too large to mail.
 */
export const maxShareEventBytes = 768 * 1024;

const CustodianSchema = v.strictObject({
  name: v.pipe(v.string(), v.maxLength(100)),
  email: v.pipe(v.string(), v.email(), v.maxLength(254)),
});

const CeremonyFacts = {
  ceremonyId: v.pipe(v.string(), v.uuid()),
  keyId: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/)),
  fingerprint: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  threshold: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(255)),
  total: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(255)),
  shareNumber: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(255)),
  custodian: CustodianSchema,
  locale: v.picklist(['es', 'en']),
};

/** Data of a `dev.trikey.share.issued` event: facts in the clear, the share only in the seal. */
export const ShareIssuedDataSchema = v.strictObject({
  ...CeremonyFacts,
  seal: v.pipe(v.string(), v.maxLength(maxShareEventBytes)),
});

/** Data of a `dev.trikey.share.issued` event. */
export type ShareIssuedData = v.InferOutput<typeof ShareIssuedDataSchema>;

const SealedFacts = {
  ...CeremonyFacts,
  admin: CustodianSchema,
  custodianNames: v.array(v.string()),
  label: v.nullable(v.string()),
};

/**
 * What the seal holds: the share, the address it may go to, and the ceremony facts that the
 * mailer renders. The share is either the plain `token` or, for a custodian who gave an age
 * recipient, `age`: the token encrypted to them and armored, so that not even the mailer sees it.
 * (The plain form keeps its field name so that share events sealed before `age` existed stay
 * deliverable.) The mailer trusts only this, never the clear copy beside it.
 */
export const SealedShareSchema = v.union([
  v.strictObject({ ...SealedFacts, token: v.pipe(v.string(), v.startsWith('trikey1')) }),
  v.strictObject({
    ...SealedFacts,
    age: v.strictObject({
      recipient: v.pipe(v.string(), v.regex(/^age1[02-9ac-hj-np-z]{58}$/)),
      armored: v.pipe(
        v.string(),
        v.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n'),
        v.maxLength(4096),
      ),
    }),
  }),
]);

/** The content of a share seal. */
export type SealedShare = v.InferOutput<typeof SealedShareSchema>;

/** Data of `dev.trikey.share.delivered` and `dev.trikey.share.failed` replies. */
export interface ShareOutcomeData {
  ceremonyId: string;
  keyId: string;
  shareNumber: number;
  /** SES message id, on delivery. */
  messageId?: string;
  /** Why the share could not be sent, on failure. */
  reason?: string;
}

/** Content of the seal of a `dev.trikey.ceremony.voided` event. */
export const VoidSealSchema = v.strictObject({
  ceremonyId: CeremonyFacts.ceremonyId,
  keyId: CeremonyFacts.keyId,
  reason: v.pipe(v.string(), v.maxLength(500)),
});

/** What a voided ceremony's seal holds. */
export type VoidSeal = v.InferOutput<typeof VoidSealSchema>;

/**
 * Data of a `dev.trikey.ceremony.voided` event: sealed like a share, so that nobody without the
 * transport key can void a ceremony and have its custodians told so.
 */
export const CeremonyVoidedDataSchema = v.strictObject({
  ...VoidSealSchema.entries,
  seal: v.pipe(v.string(), v.maxLength(4096)),
});

/** Data of a `dev.trikey.ceremony.voided` event. */
export type CeremonyVoidedData = v.InferOutput<typeof CeremonyVoidedDataSchema>;
