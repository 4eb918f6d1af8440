import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { ConfigError } from '../shared/index.ts';
import bundledTriggers from '../chart/files/triggers.json' with { type: 'json' };

// Hours, minutes and seconds only: a day or a month has no fixed length in milliseconds.
const durationPattern = /^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?$/;

/** Reads an ISO 8601 duration of hours, minutes and seconds (`PT0.5S`, `PT10S`, `PT1M`) as ms. */
export function parseDuration(text: string): number {
  const match = durationPattern.exec(text);
  if (!match) {
    throw new RangeError(
      `"${text}" is not a duration the broker bridge reads: ` +
        'write PT followed by hours, minutes and seconds, such as PT0.5S, PT10S or PT1M',
    );
  }
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  return Math.round((Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000);
}

const DurationSchema = v.pipe(
  v.string(),
  v.regex(durationPattern, 'must be an ISO 8601 duration in hours, minutes and seconds: PT0.5S'),
);
const NameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lowercase letters, digits and inner hyphens'),
  v.maxLength(63, 'must be at most 63 characters'),
);
const AttributeNameSchema = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9]+$/, 'must be a CloudEvents attribute name: lowercase letters and digits'),
);

/**
 * Where dead letters also go, as a Knative Destination: a subscriber `ref` with a `uri` path
 * resolved against its URL, or an absolute `uri` alone.
 */
export const DestinationSchema = v.pipe(
  v.strictObject({ ref: v.optional(NameSchema), uri: v.optional(v.string()) }),
  v.check(
    ({ ref, uri }) => ref !== undefined || uri !== undefined,
    'must have a ref, a uri or both',
  ),
  // Knative refuses an absolute uri beside a ref, and a relative one without it.
  v.forward(
    v.check(
      ({ ref, uri }) => uri === undefined || ref === undefined || /^\/(?!\/)/.test(uri),
      'must be a path such as /dead-letter when ref is set',
    ),
    ['uri'],
  ),
  v.forward(
    v.check(
      ({ ref, uri }) => uri === undefined || ref !== undefined || isHttpUrl(uri),
      'must be an absolute http or https URL when there is no ref',
    ),
    ['uri'],
  ),
);

/** How a trigger's events are retried, as Knative's delivery spec spells it. */
export const DeliverySchema = v.strictObject({
  retry: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100)),
  backoffPolicy: v.picklist(['linear', 'exponential'], 'must be linear or exponential'),
  backoffDelay: DurationSchema,
  timeout: v.pipe(
    DurationSchema,
    // Valibot runs every check of a pipe, so this one must not throw on a malformed duration.
    v.check((text) => !durationPattern.test(text) || parseDuration(text) > 0, 'must not be zero'),
  ),
  deadLetterSink: v.optional(DestinationSchema),
});

/** One trigger: the events it accepts, who receives them and how they are retried. */
export const TriggerSchema = v.strictObject({
  name: NameSchema,
  // Exact match on each attribute, like Knative's filter attributes.
  filter: v.strictObject({
    attributes: v.record(
      AttributeNameSchema,
      v.pipe(v.string(), v.minLength(1, 'must not be empty')),
    ),
  }),
  subscriber: NameSchema,
  delivery: DeliverySchema,
  parallelism: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
});

/**
 * The event types the status stream records besides every dead letter, and how long it keeps
 * them, in RabbitMQ's `x-max-age` units (Y, M, D, h, m, s).
 */
export const StatusRecordSchema = v.strictObject({
  types: v.pipe(
    v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
    v.check((types) => new Set(types).size === types.length, 'types must differ'),
  ),
  maxAge: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^[1-9]\d{0,8}[YMDhms]$/,
        'must be a whole number and a unit of Y, M, D, h, m, s: 7D',
      ),
    ),
    '7D',
  ),
});

/** The trigger file: every trigger of the broker, with names that differ, and what is recorded. */
export const TriggerListSchema = v.pipe(
  v.strictObject({
    triggers: v.pipe(v.array(TriggerSchema), v.minLength(1)),
    record: v.optional(StatusRecordSchema, () => ({ types: [] })),
  }),
  v.check(
    ({ triggers }) => new Set(triggers.map((trigger) => trigger.name)).size === triggers.length,
    'trigger names must differ',
  ),
);

/** The parsed trigger file. */
export type TriggerList = v.InferOutput<typeof TriggerListSchema>;

/** One parsed trigger. */
export type Trigger = TriggerList['triggers'][number];

/** One trigger's delivery spec. */
export type Delivery = Trigger['delivery'];

/** Where a trigger's dead letters are also sent. */
export type Destination = v.InferOutput<typeof DestinationSchema>;

/** What the status stream records and for how long. */
export type StatusRecord = TriggerList['record'];

/** Validates a trigger list; the ConfigError names the source and the path of each problem. */
export function parseTriggers(value: unknown, source: string): TriggerList {
  const result = v.safeParse(TriggerListSchema, value);
  if (result.success) return result.output;

  const lines = result.issues.map((issue) => {
    const path = issue.path?.map((item) => String(item.key)).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  throw new ConfigError(`${source}: ${lines.join('; ')}`);
}

/** Loads the trigger file at `path`, or the bundled chart/files/triggers.json without one. */
export async function loadTriggers(path?: string): Promise<TriggerList> {
  if (!path) return parseTriggers(bundledTriggers, 'chart/files/triggers.json');

  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(`${path}: cannot be read (${code})`);
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`${path}: is not valid JSON`);
  }
  return parseTriggers(value, path);
}

/** The wait before retry number `attempt` (1 for the first retry), in milliseconds. */
export function backoffMs(delivery: Delivery, attempt: number): number {
  const delay = parseDuration(delivery.backoffDelay);
  return delivery.backoffPolicy === 'linear' ? delay * attempt : delay * 2 ** (attempt - 1);
}

function isHttpUrl(text: string): boolean {
  return /^https?:\/\/[^/]/i.test(text) && URL.canParse(text);
}
