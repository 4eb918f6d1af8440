import { CloudEvent, HTTP, ValidationError } from 'cloudevents';
import { HttpProblem } from './problem.ts';

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

/**
 * Reads a CloudEvent from an HTTP request in binary or structured mode and validates it.
 * The SDK matches media types and extension headers as exact strings, so both are normalised
 * first: header names to lowercase, media types to their essence. A batch, a body that does not
 * parse or an event that breaks the spec is a 400 whose detail never repeats the body.
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
  if (!essence.startsWith('application/cloudevents') && !normalised['ce-specversion']) {
    throw new HttpProblem(400, 'The request is not a CloudEvent in binary or structured mode.');
  }
  if (normalised['ce-specversion'] && normalised['ce-specversion'] !== '1.0') {
    throw new HttpProblem(400, 'Only CloudEvents specversion 1.0 is accepted.', [
      { pointer: '/specversion', detail: 'must be 1.0' },
    ]);
  }

  let parsed: CloudEvent<unknown> | CloudEvent<unknown>[];
  try {
    parsed = HTTP.toEvent({ headers: normalised, body }) as CloudEvent<unknown>;
  } catch (error) {
    throw invalidEvent(error);
  }
  if (Array.isArray(parsed)) {
    throw new HttpProblem(400, 'Batched CloudEvents are not accepted; send one event a request.');
  }
  if (parsed.specversion !== '1.0') {
    throw new HttpProblem(400, 'Only CloudEvents specversion 1.0 is accepted.', [
      { pointer: '/specversion', detail: 'must be 1.0' },
    ]);
  }
  try {
    parsed.validate();
  } catch (error) {
    throw invalidEvent(error);
  }
  return parsed;
}

function invalidEvent(error: unknown): HttpProblem {
  if (error instanceof ValidationError) {
    const reasons = (error.errors ?? []).map((reason) => {
      if (typeof reason === 'string') return { pointer: '', detail: reason };
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
