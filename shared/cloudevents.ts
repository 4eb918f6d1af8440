import { fullFormats } from 'ajv-formats/dist/formats.js';
import { post, PostError } from './http-post.ts';
import { HttpProblem, type FieldError } from './problem.ts';

/**
 * A received CloudEvent: its context attributes (extensions included, percent-decoded in binary
 * mode) and its data, parsed from JSON when its media type is JSON and not validated yet.
 */
export interface ReceivedEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  [extension: string]: unknown;
}

/** The essence of a media type: lowercase, without parameters (`Application/JSON; x=y` -> `application/json`). */
export function mediaTypeEssence(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** True when a request carries a CloudEvent in either HTTP mode (CloudEvents HTTP binding 3.1, 3.2). */
export function isCloudEventRequest(headers: Headers): boolean {
  const essence = mediaTypeEssence(headers.get('content-type'));
  return essence.startsWith('application/cloudevents') || headers.has('ce-specversion');
}

// The CloudEvents SDK for JavaScript is not used here. It makes up a missing `id` and `time`,
// lets objects through as extensions, parses JSON data with a big-number parser and validates
// every event with ajv, on every hop of every share; and its CommonJS code was 65 KiB of each
// bundle (generate-keys went from 161 to 95 KiB without it). The HTTP binding is a mapping of
// headers, so the checks below are the spec's own (CloudEvents 1.0 section 3, HTTP binding 3.1
// and 3.2, JSON format 2 and 3), with the URI and timestamp grammars of ajv-formats, which the
// SDK used too; cloudevents-sdk.test.ts shows that the SDK and this module read each other's
// events.
const requiredAttributes = ['specversion', 'id', 'source', 'type'] as const;
const optionalStrings = ['subject', 'datacontenttype', 'dataschema'] as const;
// CloudEvents 1.0 section 3.1.1: lowercase letters and digits (20 characters are advised; a
// bound of 64 keeps the dead-letter attributes, whose names are longer).
const attributeName = /^[a-z0-9]{1,64}$/;
// CloudEvents 1.0 section 3.1.1, String: no control characters (U+0000-001F, U+007F-009F), no
// noncharacters and no surrogate outside a pair (a `u` pattern sees a proper pair as one).
const forbiddenCharacter = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
// RFC 3339 section 5.6, as CloudEvents 1.0 requires of `time`; ajv-formats then checks that the
// day, the hour and a leap second exist.
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// RFC 9110 section 8.3.1: type "/" subtype, then parameters of token=token or quoted string.
// Each space can match in one place only, so that a failing match cannot backtrack without end.
const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const quotedString = '"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t !-~\\x80-\\xff])*"';
const mediaType = new RegExp(
  `^${token}/${token}(?:[ \\t]*;(?:[ \\t]*${token}=(?:${token}|${quotedString}))?)*$`,
);
const isUriReference = (text: string) => (fullFormats['uri-reference'] as RegExp).test(text);
const isUri = fullFormats.uri as (text: string) => boolean;
const isDateTime = (fullFormats['date-time'] as { validate: (text: string) => boolean }).validate;

/** Checks the context attributes of an event: the spec's rules for each, names included. */
function attributeErrors(attributes: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
  for (const name of requiredAttributes) {
    if (!isText(attributes[name])) {
      const detail = attributes[name] === undefined ? 'is required' : 'must be a non-empty string';
      errors.push({ pointer: `/${name}`, detail });
    }
  }
  for (const name of optionalStrings) {
    if (attributes[name] !== undefined && !isText(attributes[name])) {
      errors.push({ pointer: `/${name}`, detail: 'must be a non-empty string' });
    }
  }
  const { specversion, source, dataschema, datacontenttype, time } = attributes;
  if (isText(specversion) && specversion !== '1.0') {
    errors.push({ pointer: '/specversion', detail: 'must be 1.0' });
  }
  if (isText(source) && !isUriReference(source)) {
    errors.push({ pointer: '/source', detail: 'must be a URI reference' });
  }
  if (isText(dataschema) && !isUri(dataschema)) {
    errors.push({ pointer: '/dataschema', detail: 'must be an absolute URI' });
  }
  if (isText(datacontenttype) && !mediaType.test(datacontenttype)) {
    errors.push({ pointer: '/datacontenttype', detail: 'must be a media type' });
  }
  if (time !== undefined && !(typeof time === 'string' && rfc3339.test(time))) {
    errors.push({ pointer: '/time', detail: 'must be an RFC 3339 timestamp' });
  } else if (typeof time === 'string' && !isDateTime(time)) {
    errors.push({ pointer: '/time', detail: 'must be a date and time that exist' });
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (!attributeName.test(name)) {
      errors.push({
        pointer: '',
        detail: 'an attribute name must be lowercase letters and digits',
      });
    } else if (!['string', 'number', 'boolean'].includes(typeof value)) {
      errors.push({ pointer: `/${name}`, detail: 'must be a string, an integer or a boolean' });
    } else if (typeof value === 'string' && forbiddenCharacter.test(value)) {
      errors.push({ pointer: `/${name}`, detail: 'holds a character CloudEvents does not allow' });
    } else if (
      typeof value === 'number' &&
      !(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)
    ) {
      // CloudEvents 1.0 section 3.1.1: an Integer is a 32-bit signed whole number.
      errors.push({ pointer: `/${name}`, detail: 'must be a 32-bit integer' });
    }
  }
  return errors.slice(0, 20);
}

/** True for JSON media types as the JSON format defines them: `type/json` and `type/x+json`. */
export function isJsonMediaType(essence: string): boolean {
  const slash = essence.indexOf('/');
  const subtype = essence.slice(slash + 1);
  return slash > 0 && (subtype === 'json' || subtype.endsWith('+json'));
}

// HTTP binding 3.1.3.2: each `ce-` header value is unquoted, then percent-decoded once, and the
// bytes must be UTF-8. A value that cannot be decoded names its attribute in `errors`.
function binaryAttributes(headers: Record<string, string>) {
  const attributes: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const [header, value] of Object.entries(headers)) {
    if (!header.startsWith('ce-')) continue;
    const name = header.slice(3);
    const decoded = decodeHeaderValue(value);
    if (decoded !== undefined) {
      attributes[name] = decoded;
      continue;
    }
    errors.push({
      pointer: attributeName.test(name) ? `/${name}` : '',
      detail: 'is not a valid header value: its quoting, percent-encoding or UTF-8 is broken',
    });
  }
  return { attributes, errors };
}

// JSON format 3.1: `data_base64` holds the bytes a binary-mode body would hold, so it is decoded
// into what binary mode gives for the same event.
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
  // JSON format 2.2: an attribute whose value is null is unset. `data` alone may be null.
  const rest: Record<string, unknown> = {};
  let encoded: unknown;
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data_base64') encoded = value ?? undefined;
    else if (value !== null || name === 'data') rest[name] = value;
  }
  if (encoded === undefined) return rest;
  if (rest.data !== undefined || typeof encoded !== 'string') {
    throw new HttpProblem(400, 'The CloudEvent is invalid.', [
      { pointer: '/data_base64', detail: 'must be a base64 string, and only when data is absent' },
    ]);
  }
  const bytes = Buffer.from(encoded, 'base64');
  const type = typeof rest.datacontenttype === 'string' ? rest.datacontenttype : '';
  if (!isJsonMediaType(mediaTypeEssence(type))) return { ...rest, data: bytes };
  try {
    return { ...rest, data: JSON.parse(bytes.toString('utf8')) };
  } catch {
    throw new HttpProblem(400, 'The CloudEvent is invalid.', [
      { pointer: '/data_base64', detail: 'does not hold the JSON its datacontenttype announces' },
    ]);
  }
}

// A binary event's body is its data: parsed when its media type is JSON, else kept as text.
function binaryData(essence: string, body: string): unknown {
  if (body.length === 0) return undefined;
  if (!isJsonMediaType(essence)) return body;
  try {
    return JSON.parse(body);
  } catch {
    // A SyntaxError's message may quote the body, so it is not repeated.
    throw new HttpProblem(400, 'The CloudEvent could not be parsed as JSON.');
  }
}

/**
 * Reads a CloudEvent from an HTTP request in binary or structured mode and validates its
 * context attributes. Header names and media types are compared case-insensitively and without
 * parameters. A batch, a body that does not parse or an event that breaks the spec is a 400
 * that names the attribute and never repeats the body.
 */
export function readCloudEvent(headers: Headers, body: string): ReceivedEvent {
  const essence = mediaTypeEssence(headers.get('content-type'));
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
  if (!structured && !headers.has('ce-specversion')) {
    throw new HttpProblem(415, 'The request is not a CloudEvent in binary or structured mode.');
  }

  if (structured) {
    const { data, ...attributes } = structuredEvent(body);
    const errors = attributeErrors(attributes);
    if (errors.length > 0) throw new HttpProblem(400, 'The CloudEvent is invalid.', errors);
    return { ...attributes, data } as ReceivedEvent;
  }

  const named: Record<string, string> = {};
  headers.forEach((value, name) => {
    named[name.toLowerCase()] = value;
  });
  const { attributes, errors: undecodable } = binaryAttributes(named);
  // HTTP binding 3.1.1: in binary mode the Content-Type header is the datacontenttype.
  if (essence) attributes.datacontenttype = named['content-type'];
  const errors = [...undecodable, ...attributeErrors(attributes)];
  if (errors.length > 0) throw new HttpProblem(400, 'The CloudEvent is invalid.', errors);
  return { ...attributes, data: binaryData(essence, body) } as ReceivedEvent;
}

/** The attributes of an event to emit; `data` is sent as JSON. */
export interface OutgoingEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  data: unknown;
}

/**
 * Builds an event in binary mode (CloudEvents HTTP binding 3.1): its headers and JSON body,
 * stamped with the time it was built.
 */
export function toBinary(event: OutgoingEvent): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': percentEncode(event.id),
    'ce-source': percentEncode(event.source),
    'ce-type': percentEncode(event.type),
    'ce-time': new Date().toISOString(),
  };
  if (event.subject !== undefined) headers['ce-subject'] = percentEncode(event.subject);
  return { headers, body: JSON.stringify(event.data) };
}

/**
 * HTTP binding 3.1.3.2: space, double quote, percent and anything outside printable ASCII are
 * sent percent-encoded as UTF-8 in header values.
 */
export function percentEncode(text: string): string {
  if (/^[\x21\x23\x24\x26-\x7e]*$/.test(text)) return text;
  const hex = (byte: number) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return text.replace(/[^\x21-\x7e]|["%]/gu, (character) =>
    Array.from(Buffer.from(character), hex).join(''),
  );
}

/**
 * A context attribute of a binary-mode event, read from its `ce-` header and decoded as
 * readCloudEvent decodes it; undefined when absent or undecodable.
 */
export function binaryAttribute(headers: Headers, name: string): string | undefined {
  const value = headers.get(`ce-${name}`);
  return value === null ? undefined : decodeHeaderValue(value);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const percentByte = /^%[0-9A-Fa-f]{2}/;

// HTTP binding 3.1.3.2, receiving: double-quoted parts are unquoted first (RFC 9110 section
// 5.6.4, backslash escapes included), then one round of percent-decoding; the bytes must be
// valid UTF-8 (an overlong "%C0%A0" is refused). A percent sign not followed by two hex digits
// stays as it is: senders that never encode, as the SDK for JavaScript, send "%" so. A header's
// bytes beyond ASCII are taken as the bytes they were. Undefined when the value is invalid.
function decodeHeaderValue(raw: string): string | undefined {
  if (/^[\x21\x23\x24\x26-\x7e ]*$/.test(raw)) return raw;
  const unquoted = raw.includes('"') ? unquote(raw) : raw;
  if (unquoted === undefined || /[^\x00-\xff]/.test(unquoted)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < unquoted.length; i++) {
    if (unquoted[i] === '%' && percentByte.test(unquoted.slice(i, i + 3))) {
      bytes.push(parseInt(unquoted.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(unquoted.charCodeAt(i));
    }
  }
  try {
    return strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

// The value with each double-quoted part replaced by its content, backslash escapes undone;
// undefined when a quote is left open.
function unquote(raw: string): string | undefined {
  let text = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const character = raw[i]!;
    if (character === '"') quoted = !quoted;
    else if (quoted && character === '\\') {
      i += 1;
      if (i >= raw.length) return undefined;
      text += raw[i];
    } else text += character;
  }
  return quoted ? undefined : text;
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
    const { status } = await post(sink, { headers, body, timeoutMs });
    return { ok: status >= 200 && status < 300, status };
  } catch (error) {
    const reason =
      error instanceof PostError && error.failure === 'timeout' ? 'timeout' : 'network';
    return { ok: false, status: 0, reason };
  }
}
