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

/**
 * Reads a CloudEvent from an HTTP request or response in binary or structured mode and turns it
 * into the message the broker stores; throws a 400 HttpProblem for an invalid event.
 */
export function readEventMessage(
  headers: Headers,
  body: Buffer,
): { event: ReceivedEvent; message: BrokerMessage } {
  const event = readCloudEvent(headers, body.toString('utf8'));
  const essence = mediaTypeEssence(headers.get('content-type'));
  const structured = essence.startsWith('application/cloudevents');
  const data = structured ? structuredData(body, event.datacontenttype) : body;
  const contentType = structured
    ? (event.datacontenttype ?? (data.length > 0 ? 'application/json' : undefined))
    : (headers.get('content-type') ?? undefined);

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
  return { event, message: { messageId: event.id, contentType, headers: attributes, body: data } };
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

// The data of a structured event, as the bytes a binary-mode body would hold (JSON format 3.1):
// base64 data decoded, JSON data as JSON text, other string data as its UTF-8 bytes.
function structuredData(body: Buffer, contentType: string | undefined): Buffer {
  const envelope = JSON.parse(body.toString('utf8')) as { data?: unknown; data_base64?: unknown };
  if (typeof envelope.data_base64 === 'string') return Buffer.from(envelope.data_base64, 'base64');
  if (envelope.data === undefined) return Buffer.alloc(0);
  if (typeof envelope.data === 'string' && !isJson(contentType)) return Buffer.from(envelope.data);
  return Buffer.from(JSON.stringify(envelope.data));
}

function isJson(contentType: string | undefined): boolean {
  return isJsonMediaType(mediaTypeEssence(contentType) || 'application/json');
}
