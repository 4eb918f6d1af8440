import * as v from 'valibot';
import {
  CeremonyVoidedDataSchema,
  EventTypes,
  HttpProblem,
  SealError,
  SealedShareSchema,
  ShareIssuedDataSchema,
  fieldErrors,
  openSeal,
  type ReceivedEvent,
  type SealedShare,
  type TransportKey,
  type VoidSeal,
  VoidSealSchema,
} from '../../shared/index.ts';

/**
 * Opens the share carried by a `dev.trikey.share.issued` event. Refuses with a 400 (final, so the
 * broker does not retry it) an event of another type, data that does not parse, a seal that does
 * not open with a configured key or was made for another event, and clear facts that disagree
 * with the sealed ones: the mailer trusts only what is inside the seal.
 */
export function openShareEvent(event: ReceivedEvent, keys: readonly TransportKey[]): SealedShare {
  if (event.type !== EventTypes.shareIssued) {
    throw new HttpProblem(400, `dispatch-email takes events of type ${EventTypes.shareIssued}.`, [
      { pointer: '/type', detail: `must be ${EventTypes.shareIssued}` },
    ]);
  }
  const data = v.safeParse(ShareIssuedDataSchema, event.data);
  if (!data.success) {
    throw new HttpProblem(400, 'The share event data is invalid.', fieldErrors(data.issues));
  }

  let content: unknown;
  try {
    content = openSeal(data.output.seal, event, keys);
  } catch (error) {
    if (error instanceof SealError)
      throw new HttpProblem(400, `The share was refused: ${error.message}.`);
    throw error;
  }
  const sealed = v.safeParse(SealedShareSchema, content);
  if (!sealed.success)
    throw new HttpProblem(400, 'The share was refused: the sealed content is malformed.');

  const share = sealed.output;
  const clear = data.output;
  const agrees =
    clear.ceremonyId === share.ceremonyId &&
    clear.keyId === share.keyId &&
    clear.fingerprint === share.fingerprint &&
    clear.threshold === share.threshold &&
    clear.total === share.total &&
    clear.shareNumber === share.shareNumber &&
    clear.locale === share.locale &&
    clear.custodian.email === share.custodian.email &&
    clear.custodian.name === share.custodian.name;
  if (!agrees) {
    throw new HttpProblem(400, 'The share was refused: the event data disagrees with its seal.');
  }
  return share;
}

/**
 * Opens a `dev.trikey.ceremony.voided` event. Like a share event, it is refused with a 400 when
 * its seal does not open on this event or disagrees with the clear data: a forged void could
 * otherwise stop a ceremony's emails.
 */
export function openVoidedEvent(event: ReceivedEvent, keys: readonly TransportKey[]): VoidSeal {
  const data = v.safeParse(CeremonyVoidedDataSchema, event.data);
  if (!data.success) {
    throw new HttpProblem(400, 'The voided event data is invalid.', fieldErrors(data.issues));
  }
  let content: unknown;
  try {
    content = openSeal(data.output.seal, event, keys);
  } catch (error) {
    if (error instanceof SealError) {
      throw new HttpProblem(400, `The void was refused: ${error.message}.`);
    }
    throw error;
  }
  const sealed = v.safeParse(VoidSealSchema, content);
  const clear = data.output;
  if (
    !sealed.success ||
    sealed.output.ceremonyId !== clear.ceremonyId ||
    sealed.output.keyId !== clear.keyId ||
    sealed.output.reason !== clear.reason ||
    event.subject !== clear.ceremonyId
  ) {
    throw new HttpProblem(400, 'The void was refused: the event data disagrees with its seal.');
  }
  return sealed.output;
}
