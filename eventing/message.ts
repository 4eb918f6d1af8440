import {
  HttpProblem,
  isJsonMediaType,
  mediaTypeEssence,
  percentEncode,
  readCloudEvent,
  type ReceivedEvent,
} from '../shared/index.ts';

/** An event as the broker stores it: attributes as headers, data as the exact bytes. */
export interface BrokerMessage {
  messageId: string;
  contentType?: string;
  headers: Record<string, string>;
  body: Buffer;
}

const attributeName = /^[a-z0-9]+$/;
// AMQP short strings (message id, content type) hold at most 255 bytes.
const shortStringBytes = 255;
// What an event's attributes may take as binary-mode headers: half of Node's 16 KiB header limit.
const maxAttributes = 100;
const maxAttributeBytes = 8 * 1024;

/**
 * Reads a CloudEvent from an HTTP request or response in binary or structured mode and turns it
 * into the message the broker stores; throws a 400 HttpProblem for an invalid event.
 */
export function readEventMessage(
  headers: Headers,
  body: Buffer,
): { event: ReceivedEvent; message: BrokerMessage } {
  const event = readCloudEvent(headers, body.toString('utf8'));
  const structured = mediaTypeEssence(headers.get('content-type')).startsWith(
    'application/cloudevents',
  );
  const { bytes, contentType } = structured
    ? structuredData(event)
    : { bytes: body, contentType: headers.get('content-type') ?? undefined };

  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (value === undefined || name === 'data') continue;
    attributes[name] = String(value);
  }
  if (contentType) attributes.datacontenttype = contentType;

  if (Buffer.byteLength(event.id) > shortStringBytes) {
    throw new HttpProblem(400, 'The CloudEvent id is longer than 255 bytes.', [
      { pointer: '/id', detail: 'must be at most 255 bytes' },
    ]);
  }
  if (contentType && Buffer.byteLength(contentType) > shortStringBytes) {
    throw new HttpProblem(400, 'The CloudEvent datacontenttype is longer than 255 bytes.', [
      { pointer: '/datacontenttype', detail: 'must be at most 255 bytes' },
    ]);
  }
  // Every attribute goes out again as a header in binary mode: a structured event whose
  // attributes would not fit a subscriber's header limit (16 KiB in Node) is refused now rather
  // than stored and then dead-lettered.
  const names = Object.keys(attributes);
  const headerBytes = names.reduce(
    (sum, name) => sum + name.length + 7 + percentEncode(attributes[name]!).length,
    0,
  );
  if (names.length > maxAttributes || headerBytes > maxAttributeBytes) {
    throw new HttpProblem(
      400,
      `The CloudEvent's attributes do not fit in HTTP headers: at most ${maxAttributes} ` +
        `attributes and ${maxAttributeBytes} bytes once encoded.`,
    );
  }
  return { event, message: { messageId: event.id, contentType, headers: attributes, body: bytes } };
}

/** The headers of a stored message in CloudEvents binary mode (HTTP binding 3.1). */
export function toBinaryHeaders(properties: {
  headers?: Record<string, unknown>;
  contentType?: unknown;
}): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties.headers ?? {})) {
    // Binary mode carries datacontenttype as content-type (HTTP binding 3.1.1).
    if (!attributeName.test(name) || name === 'datacontenttype' || value == null) continue;
    headers[`ce-${name}`] = percentEncode(headerText(value));
  }
  if (typeof properties.contentType === 'string') headers['content-type'] = properties.contentType;
  return headers;
}

/** The text of an AMQP header value, which other publishers may have sent as bytes or numbers. */
export function headerText(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

// The data of a structured event as the bytes a binary-mode body would hold (JSON format 3.1),
// with the media type to send them as: base64 data as its bytes, text data of a non-JSON type
// as its UTF-8 bytes, anything else as JSON text, application/json when no type is given.
function structuredData(event: ReceivedEvent): { bytes: Buffer; contentType?: string } {
  const { data, datacontenttype } = event;
  if (data === undefined) return { bytes: Buffer.alloc(0), contentType: datacontenttype };
  if (Buffer.isBuffer(data)) return { bytes: data, contentType: datacontenttype };
  const json = datacontenttype === undefined || isJsonMediaType(mediaTypeEssence(datacontenttype));
  if (typeof data === 'string' && !json) {
    return { bytes: Buffer.from(data), contentType: datacontenttype };
  }
  return {
    bytes: Buffer.from(JSON.stringify(data)),
    contentType: datacontenttype ?? 'application/json',
  };
}
