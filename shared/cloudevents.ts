import { CloudEvent, HTTP, ValidationError } from 'cloudevents';
import { HttpProblem, type FieldError } from './problem.ts';

/** A received CloudEvent whose data has not been validated yet. */
export type ReceivedEvent = CloudEvent<unknown>;

/** The essence of a media type: lowercase, without parameters (`Application/JSON; x=y` -> `application/json`). */
export function mediaTypeEssence(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** True when a request carries a CloudEvent in either HTTP mode (CloudEvents HTTP binding 3.1, 3.2). */
export function isCloudEventRequest(headers: Headers): boolean {
  const essence = mediaTypeEssence(headers.get('content-type'));
  return essence.startsWith('application/cloudevents') || headers.has('ce-specversion');
}

const requiredAttributes = ['specversion', 'id', 'source', 'type'] as const;
const optionalStrings = ['subject', 'datacontenttype', 'dataschema'] as const;
// CloudEvents 1.0 section 3.1.1: lowercase letters and digits (20 characters are advised; a
// bound of 64 keeps the dead-letter attributes, whose names are longer).
const attributeName = /^[a-z0-9]{1,64}$/;
// RFC 3339 section 5.6, as CloudEvents 1.0 requires of `time`.
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Checks the context attributes of an event before the SDK sees them: the SDK makes up a
 * missing `id`, turns a malformed `time` into now and lets objects through as extensions.
 */
function attributeErrors(attributes: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const isText = (value: unknown) => typeof value === 'string' && value.length > 0;
  for (const name of requiredAttributes) {
    if (!isText(attributes[name])) {
      const detail = attributes[name] === undefined ? 'is required' : 'must be a non-empty string';
      errors.push({ pointer: `/${name}`, detail });
    }
  }
  if (isText(attributes.specversion) && attributes.specversion !== '1.0') {
    errors.push({ pointer: '/specversion', detail: 'must be 1.0' });
  }
  for (const name of optionalStrings) {
    if (attributes[name] !== undefined && !isText(attributes[name])) {
      errors.push({ pointer: `/${name}`, detail: 'must be a non-empty string' });
    }
  }
  if (isText(attributes.dataschema) && !URL.canParse(attributes.dataschema as string)) {
    errors.push({ pointer: '/dataschema', detail: 'must be an absolute URI' });
  }
  const time = attributes.time;
  if (time !== undefined && typeof time === 'string' && rfc3339.test(time) && !realDate(time)) {
    errors.push({ pointer: '/time', detail: 'must be a date that exists' });
  } else if (
    time !== undefined &&
    !(typeof time === 'string' && rfc3339.test(time) && !isNaN(Date.parse(time)))
  ) {
    errors.push({ pointer: '/time', detail: 'must be an RFC 3339 timestamp' });
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (!attributeName.test(name)) {
      errors.push({
        pointer: '',
        detail: 'an attribute name must be lowercase letters and digits',
      });
    } else if (!['string', 'number', 'boolean'].includes(typeof value)) {
      errors.push({ pointer: `/${name}`, detail: 'must be a string, an integer or a boolean' });
    } else if (
      typeof value === 'number' &&
      !(Number.isInteger(value) && Math.abs(value) < 2 ** 31)
    ) {
      // CloudEvents 1.0 section 3.1.1: an Integer is a 32-bit signed whole number.
      errors.push({ pointer: `/${name}`, detail: 'must be a 32-bit integer' });
    }
  }
  return errors.slice(0, 20);
}

// Date.parse rolls 2024-02-30 over to March: the day must survive the round trip.
function realDate(time: string): boolean {
  const [year, month, day] = time.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function binaryAttributes(headers: Record<string, string>): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-')) attributes[name.slice(3)] = value;
  }
  return attributes;
}

// A structured event's `data_base64` comes back from the SDK as a typed array of the wrong
// width, so it is decoded here into what binary mode would have given for the same event.
function structuredEvent(body: string): Record<string, unknown> {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    // A SyntaxError's message may quote the body, so it is not repeated.
    throw new HttpProblem(400, 'The CloudEvent could not be parsed as JSON.');
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new HttpProblem(400, 'A structured CloudEvent must be a JSON object.');
  }
  const { data_base64: encoded, ...rest } = event as Record<string, unknown>;
  if (encoded === undefined) return rest;
  if (rest.data !== undefined || typeof encoded !== 'string') {
    throw new HttpProblem(400, 'The CloudEvent is invalid.', [
      { pointer: '/data_base64', detail: 'must be a base64 string, and only when data is absent' },
    ]);
  }
  const bytes = Buffer.from(encoded, 'base64');
  const type = mediaTypeEssence(rest.datacontenttype as string | undefined);
  if (type !== 'application/json' && !type.endsWith('+json')) return { ...rest, data: bytes };
  try {
    return { ...rest, data: JSON.parse(bytes.toString('utf8')) };
  } catch {
    throw new HttpProblem(400, 'The CloudEvent is invalid.', [
      { pointer: '/data_base64', detail: 'does not hold the JSON its datacontenttype announces' },
    ]);
  }
}

/**
 * Reads a CloudEvent from an HTTP request in binary or structured mode and validates it.
 * The SDK matches media types and extension headers as exact strings, so both are normalised
 * first: header names to lowercase, media types to their essence. A batch, a body that does not
 * parse or an event that breaks the spec is a 400 that names the attribute and never repeats
 * the body.
 */
export function readCloudEvent(headers: Headers, body: string): ReceivedEvent {
  const normalised: Record<string, string> = {};
  headers.forEach((value, name) => {
    normalised[name.toLowerCase()] = value;
  });
  const essence = mediaTypeEssence(normalised['content-type']);
  if (essence) normalised['content-type'] = essence;

  if (essence === 'application/cloudevents-batch+json') {
    throw new HttpProblem(400, 'Batched CloudEvents are not accepted; send one event a request.');
  }
  const structured = essence.startsWith('application/cloudevents');
  if (structured && essence !== 'application/cloudevents+json') {
    throw new HttpProblem(
      415,
      'Structured CloudEvents are accepted as application/cloudevents+json.',
    );
  }
  if (!structured && normalised['ce-specversion'] === undefined) {
    throw new HttpProblem(415, 'The request is not a CloudEvent in binary or structured mode.');
  }

  if (structured) {
    const { data, ...attributes } = structuredEvent(body);
    const errors = attributeErrors(attributes);
    if (errors.length > 0) throw new HttpProblem(400, 'The CloudEvent is invalid.', errors);
    return new CloudEvent({ ...attributes, data } as CloudEvent<unknown>, false);
  }

  const errors = attributeErrors(binaryAttributes(normalised));
  if (errors.length > 0) throw new HttpProblem(400, 'The CloudEvent is invalid.', errors);
  let parsed: CloudEvent<unknown> | CloudEvent<unknown>[];
  try {
    parsed = HTTP.toEvent({ headers: normalised, body }) as CloudEvent<unknown>;
    if (!Array.isArray(parsed)) parsed.validate();
  } catch (error) {
    throw invalidEvent(error);
  }
  if (Array.isArray(parsed)) {
    throw new HttpProblem(400, 'Batched CloudEvents are not accepted; send one event a request.');
  }
  return parsed;
}

function invalidEvent(error: unknown): HttpProblem {
  if (error instanceof ValidationError) {
    const reasons = (error.errors ?? []).map((reason) => {
      const item = reason as { instancePath?: string; message?: string };
      return { pointer: item.instancePath ?? '', detail: item.message ?? 'is invalid' };
    });
    return new HttpProblem(400, 'The CloudEvent is invalid.', reasons);
  }
  // A SyntaxError's message may quote the body, so it is not repeated.
  return new HttpProblem(400, 'The CloudEvent could not be parsed as JSON.');
}

/** The attributes of an event to emit; `data` is sent as JSON. */
export interface OutgoingEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  data: unknown;
}

/** Builds an event in binary mode (CloudEvents HTTP binding 3.1): its headers and JSON body. */
export function toBinary(event: OutgoingEvent): { headers: Record<string, string>; body: string } {
  const cloudEvent = new CloudEvent({ ...event, datacontenttype: 'application/json' });
  const message = HTTP.binary(cloudEvent);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === 'string') headers[name] = value;
  }
  return { headers, body: message.body as string };
}

/** The response of a receiver to an emitted event. */
export interface SinkAnswer {
  ok: boolean;
  status: number;
  reason?: string;
}

/**
 * Posts an event in binary mode to a sink and waits at most `timeoutMs` for its answer.
 * Never throws: a network error or a timeout is an answer with status 0 and a reason.
 */
export async function emitEvent(
  sink: string,
  event: OutgoingEvent,
  timeoutMs: number,
): Promise<SinkAnswer> {
  const { headers, body } = toBinary(event);
  try {
    const response = await fetch(sink, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return { ok: response.ok, status: response.status };
  } catch (error) {
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'network';
    return { ok: false, status: 0, reason };
  }
}
