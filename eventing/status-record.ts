import * as v from 'valibot';
import { controlCharacters, EventTypes } from '../shared/index.ts';

/** Where one share stands. */
export type ShareState = 'issued' | 'delivered' | 'failed' | 'dead-lettered' | 'voided';

/** One share as the status stream records it: never its seal, never a share token. */
export interface ShareStatus {
  shareNumber: number;
  custodian: { name: string; email: string } | undefined;
  state: ShareState;
  /** The mailer's message id, once delivered. */
  messageId?: string;
  /** Why it failed, was dead-lettered or voided. */
  reason?: string;
  /** How many deliveries were tried before it was dead-lettered. */
  attempts?: number;
  /** When the event that set the state happened, in ISO 8601. */
  at?: string;
}

/** What the status stream says about one ceremony, shares sorted by number. */
export interface CeremonyStatus {
  ceremonyId: string;
  voided: boolean;
  voidReason?: string;
  shares: ShareStatus[];
  /** True when reading stopped at its time limit, so later events may be missing. */
  partial?: boolean;
}

/** One event read from the status stream: its attributes, its data, and whether it is dead. */
export interface RecordedEvent {
  headers: Readonly<Record<string, string>>;
  data: unknown;
  /** True for a dead letter: the original event with Knative's and Trikey's error attributes. */
  deadLetter: boolean;
  /** When it was published, in seconds since 1970, as RabbitMQ keeps it. */
  timestamp?: number;
}

// `v.object` drops every other entry of the data, the seal first of all.
const ShareNumberSchema = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(255));
const CeremonySchema = v.object({ ceremonyId: v.optional(v.string()) });
const IssuedSchema = v.object({
  shareNumber: ShareNumberSchema,
  custodian: v.optional(v.object({ name: v.string(), email: v.string() })),
});
const DeliveredSchema = v.object({
  shareNumber: ShareNumberSchema,
  messageId: v.optional(v.string()),
});
const FailedSchema = v.object({ shareNumber: ShareNumberSchema, reason: v.optional(v.string()) });
const VoidedSchema = v.object({ reason: v.optional(v.string()) });

const tokenText = /trikey1[0-9a-z]*/gi;
const controlText = new RegExp(controlCharacters.source, 'gu');
const longestText = 300;

/**
 * A recorded text made safe to show: a share token in it is replaced, control characters become
 * spaces, and it is cut to 300 characters.
 */
export function safeText(text: string): string {
  const plain = text.replace(tokenText, '[token removed]').replace(controlText, ' ');
  return plain.length > longestText ? `${plain.slice(0, longestText - 1)}…` : plain;
}

/**
 * Folds a ceremony's recorded events, in stream order, into its status. Every outcome beats
 * issued; of failed and dead-lettered the later wins; delivered beats both, also a dead letter
 * recorded before it (a re-driven share). Once voided, every share not delivered is voided.
 */
export function ceremonyStatusOf(
  ceremonyId: string,
  events: Iterable<RecordedEvent>,
): CeremonyStatus {
  const shares = new Map<number, ShareStatus>();
  let voided = false;
  let voidReason: string | undefined;
  let voidedAt: string | undefined;

  const settle = (shareNumber: number, state: ShareState, details: Partial<ShareStatus>) => {
    const custodian = shares.get(shareNumber)?.custodian;
    shares.set(shareNumber, compact({ shareNumber, custodian, state, ...details }));
  };

  for (const { headers, data, deadLetter, timestamp } of events) {
    if (headers.subject !== ceremonyId) continue;
    const facts = v.safeParse(CeremonySchema, data);
    if (!facts.success || (facts.output.ceremonyId ?? ceremonyId) !== ceremonyId) continue;
    const at = headers.time;

    if (deadLetter) {
      const issued = headers.type === EventTypes.shareIssued && parse(IssuedSchema, data);
      if (!issued) continue;
      const attempts = Number(headers.trikeyattempts);
      if (shares.get(issued.shareNumber)?.state !== 'delivered') {
        settle(issued.shareNumber, 'dead-lettered', {
          reason: optionalText(headers.trikeydeadletterreason),
          attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : undefined,
          // A dead letter keeps the original's time; when it died is when it was published.
          at: timestamp === undefined ? at : new Date(timestamp * 1000).toISOString(),
        });
      }
      learnCustodian(shares, issued.shareNumber, issued.custodian);
      continue;
    }

    switch (headers.type) {
      case EventTypes.shareIssued: {
        const issued = parse(IssuedSchema, data);
        if (!issued) break;
        if (!shares.has(issued.shareNumber)) settle(issued.shareNumber, 'issued', { at });
        learnCustodian(shares, issued.shareNumber, issued.custodian);
        break;
      }
      case EventTypes.shareDelivered: {
        const delivered = parse(DeliveredSchema, data);
        if (!delivered) break;
        const messageId = optionalText(delivered.messageId);
        settle(delivered.shareNumber, 'delivered', { messageId, at });
        break;
      }
      case EventTypes.shareFailed: {
        const failed = parse(FailedSchema, data);
        if (!failed || shares.get(failed.shareNumber)?.state === 'delivered') break;
        settle(failed.shareNumber, 'failed', { reason: optionalText(failed.reason), at });
        break;
      }
      case EventTypes.ceremonyVoided: {
        const voiding = parse(VoidedSchema, data);
        if (!voiding) break;
        voided = true;
        voidReason ??= optionalText(voiding.reason);
        voidedAt ??= at;
        break;
      }
    }
  }

  // The custodian of a delivered share was told separately, so that share stays delivered.
  if (voided) {
    for (const share of shares.values()) {
      if (share.state === 'delivered') continue;
      settle(share.shareNumber, 'voided', { reason: voidReason, at: voidedAt });
    }
  }
  const sorted = [...shares.values()].sort((a, b) => a.shareNumber - b.shareNumber);
  return compact({ ceremonyId, voided, voidReason, shares: sorted });
}

function learnCustodian(
  shares: Map<number, ShareStatus>,
  shareNumber: number,
  custodian: { name: string; email: string } | undefined,
): void {
  const share = shares.get(shareNumber);
  if (!share || !custodian) return;
  share.custodian = { name: safeText(custodian.name), email: safeText(custodian.email) };
}

function parse<TSchema extends v.GenericSchema>(schema: TSchema, data: unknown) {
  const result = v.safeParse(schema, data);
  return result.success ? (result.output as v.InferOutput<TSchema>) : undefined;
}

function optionalText(text: string | undefined): string | undefined {
  return text ? safeText(text) : undefined;
}

// Leaves out the optional members that have no value, so a status compares and prints cleanly.
function compact<T extends object>(value: T): T {
  return Object.fromEntries(
    Object.entries(value).filter(([name, item]) => item !== undefined || name === 'custodian'),
  ) as T;
}
