import { randomUUID } from 'node:crypto';
import {
  EventSources,
  EventTypes,
  HttpProblem,
  encodeShareToken,
  encryptShareToAge,
  generateCeremonyKey,
  identifyKey,
  maxShareEventBytes,
  seal,
  splitKey,
  type FieldError,
  type OutgoingEvent,
  type CeremonyVoidedData,
  type SealedShare,
  type ShareIssuedData,
  type SinkAnswer,
  type TransportKey,
} from '../../shared/index.ts';
import type { CeremonyRequestBody, Custodian } from './request.ts';
import type { Voider } from './voider.ts';

/** A ceremony request once every check has passed: what to generate and for whom. */
export interface CeremonyPlan {
  admin: Custodian;
  /** The admin first, then the representatives; custodian i holds share i + 1. */
  custodians: Custodian[];
  threshold: number;
  label: string | null;
  locale: 'es' | 'en';
}

/** What a caller learns of an accepted ceremony: identifiers and custodians, never a share. */
export interface CeremonyReceipt {
  ceremonyId: string;
  keyId: string;
  fingerprint: string;
  threshold: number;
  total: number;
  label: string | null;
  locale: 'es' | 'en';
  custodians: {
    name: string;
    email: string;
    shareNumber: number;
    role: 'admin' | 'representative';
  }[];
}

/** Settings and collaborators a ceremony needs. */
export interface CeremonyDeps {
  sink: string;
  transportKeys: readonly TransportKey[];
  maxCustodians: number;
  /** Refuse a request in which any custodian gives no age recipient. */
  requireCustodianKeys: boolean;
  defaultLocale: 'es' | 'en';
  publishTimeoutMs: number;
  emit: (sink: string, event: OutgoingEvent, timeoutMs: number) => Promise<SinkAnswer>;
  voider: Voider;
}

/** Applies the checks that span fields; throws a 422 HttpProblem naming each bad field. */
export function planCeremony(body: CeremonyRequestBody, deps: CeremonyDeps): CeremonyPlan {
  const errors: FieldError[] = [];
  if (body.representatives && body.representantes) {
    errors.push({
      pointer: '/representantes',
      detail: 'give representatives or representantes, not both',
    });
  }
  const field = body.representatives ? 'representatives' : 'representantes';
  const representatives = body.representatives ?? body.representantes;
  if (!representatives) {
    errors.push({
      pointer: '/representatives',
      detail: 'is required: name at least one representative',
    });
  }
  const custodians = [body.admin, ...(representatives ?? [])];
  const total = custodians.length;
  if (representatives && total > deps.maxCustodians) {
    errors.push({
      pointer: `/${field}`,
      detail: `names ${total} custodians with the admin; at most ${deps.maxCustodians} are allowed`,
    });
  }
  const seen = new Map<string, string>();
  custodians.forEach((custodian, index) => {
    const pointer = index === 0 ? '/admin' : `/${field}/${index - 1}`;
    const earlier = seen.get(custodian.email);
    if (earlier !== undefined) {
      errors.push({
        pointer,
        detail: `repeats the address of ${earlier}; each custodian needs their own`,
      });
    } else {
      seen.set(custodian.email, pointer.slice(1));
    }
    if (deps.requireCustodianKeys && custodian.ageRecipient === undefined) {
      errors.push({
        pointer,
        detail:
          'needs an ageRecipient: every share is encrypted to its custodian here ' +
          '(give the custodian as {"name", "email", "ageRecipient"})',
      });
    }
  });
  const threshold = body.threshold ?? total;
  if (representatives && threshold > total) {
    errors.push({
      pointer: '/threshold',
      detail: `must be at most ${total}, the number of custodians`,
    });
  }
  if (errors.length > 0) throw new HttpProblem(422, 'The ceremony request is invalid.', errors);

  return {
    admin: body.admin,
    custodians,
    threshold,
    label: body.label || null,
    locale: body.locale ?? deps.defaultLocale,
  };
}

/**
 * Runs a ceremony: draws a key, splits it, seals every share to its event and publishes them
 * all. Resolves with a receipt only once every share event was accepted; otherwise throws a 503.
 * The key exists only inside this function and its bytes are overwritten before it returns.
 */
export async function runCeremony(
  plan: CeremonyPlan,
  deps: CeremonyDeps,
): Promise<CeremonyReceipt> {
  const ceremonyId = randomUUID();
  const total = plan.custodians.length;
  const key = await generateCeremonyKey();
  let events: OutgoingEvent[];
  let identity: ReturnType<typeof identifyKey>;
  try {
    identity = identifyKey(key);
    const shares = await splitKey(key, total, plan.threshold);
    const sealedShares = await Promise.all(
      shares.map((share, index) => {
        const token = encodeShareToken(share);
        share.share.fill(0);
        return sealedShareOf(token, plan.custodians[index]!);
      }),
    );
    events = shares.map((share, index) => {
      const facts = {
        ceremonyId,
        ...identity,
        threshold: plan.threshold,
        total,
        shareNumber: share.shareNumber,
        custodian: addressOf(plan.custodians[index]!),
        locale: plan.locale,
      };
      const sealed: SealedShare = {
        ...facts,
        ...sealedShares[index]!,
        admin: addressOf(plan.admin),
        custodianNames: plan.custodians.map((each) => each.name),
        label: plan.label,
      };
      const binding = {
        id: `${ceremonyId}-${share.shareNumber}`,
        type: EventTypes.shareIssued,
        source: EventSources.generateKeys,
        subject: ceremonyId,
      };
      const data: ShareIssuedData = { ...facts, seal: seal(sealed, binding, deps.transportKeys) };
      return { ...binding, data };
    });
  } finally {
    key.fill(0);
  }
  const largest = Math.max(...events.map((event) => Buffer.byteLength(JSON.stringify(event.data))));
  if (largest > maxShareEventBytes) {
    throw new HttpProblem(
      413,
      'The ceremony is too large to email: name fewer custodians or shorter names.',
    );
  }

  const answers = await Promise.all(
    events.map((event) => deps.emit(deps.sink, event, deps.publishTimeoutMs)),
  );
  const refused = answers.filter((answer) => !answer.ok).length;
  if (refused > 0) {
    // A share whose publish timed out may still have been stored, so the whole ceremony is
    // voided whenever it is not accepted: a void that covers no share changes nothing.
    const reason = `the broker did not accept ${refused} of ${total} share events`;
    deps.voider.submit(voidedEvent(ceremonyId, identity.keyId, reason, deps.transportKeys));
    throw new HttpProblem(
      503,
      `The broker did not accept ${refused} of ${total} share events. The ceremony was not ` +
        'accepted, its key was discarded, and any share already accepted is voided. Try again later.',
      [],
      { 'retry-after': '5' },
      { ceremonyId },
    );
  }

  return {
    ceremonyId,
    ...identity,
    threshold: plan.threshold,
    total,
    label: plan.label,
    locale: plan.locale,
    custodians: plan.custodians.map((custodian, index) => ({
      name: custodian.name,
      email: custodian.email,
      shareNumber: index + 1,
      role: index === 0 ? 'admin' : 'representative',
    })),
  };
}

// A custodian with an age recipient gets the token encrypted to them: from here on it exists
// only in that form, not even inside the seal.
async function sealedShareOf(token: string, custodian: Custodian) {
  if (custodian.ageRecipient === undefined) return { token };
  const armored = await encryptShareToAge(token, custodian.ageRecipient);
  return { age: { recipient: custodian.ageRecipient, armored } };
}

// Events carry a custodian's name and address only; the recipient is in the seal where needed.
function addressOf({ name, email }: Custodian): Custodian {
  return { name, email };
}

function voidedEvent(
  ceremonyId: string,
  keyId: string,
  reason: string,
  transportKeys: readonly TransportKey[],
): OutgoingEvent {
  const binding = {
    id: `${ceremonyId}-voided`,
    type: EventTypes.ceremonyVoided,
    source: EventSources.generateKeys,
    subject: ceremonyId,
  };
  const content = { ceremonyId, keyId, reason };
  const data: CeremonyVoidedData = { ...content, seal: seal(content, binding, transportKeys) };
  return { ...binding, data };
}
