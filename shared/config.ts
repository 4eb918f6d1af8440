import * as v from 'valibot';
import { parseTransportKeys } from './seal.ts';

/** A configuration value that is wrong; the message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Environment variables as Node gives them. */
export type Env = Record<string, string | undefined>;

/**
 * Reads the variables a schema names from the environment, validates them once and freezes the
 * result. A bad value throws a ConfigError whose message names every variable that is wrong.
 */
export function readConfig<const TSchema extends v.GenericSchema<Env, unknown>>(
  schema: TSchema,
  env: Env,
): Readonly<v.InferOutput<TSchema>> {
  const result = v.safeParse(schema, env);
  if (!result.success) {
    const lines = result.issues.map((issue) => {
      const name = issue.path?.map((item) => String(item.key)).join('.') ?? 'environment';
      return `${name}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return Object.freeze(result.output);
}

/** An optional integer variable within bounds, with a default. */
export function intVar(fallback: number, min: number, max: number) {
  return v.pipe(
    v.optional(v.string(), String(fallback)),
    v.regex(/^\d+$/, `must be a whole number from ${min} to ${max}`),
    v.transform(Number),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
}

/** Checks that a variable is an absolute http or https URL. */
export const httpUrl = v.pipe(
  v.string(),
  v.url('must be an absolute URL'),
  v.regex(/^https?:\/\//i, 'must be an http or https URL'),
);

/** A variable that must be set; `hint` says what to set it to. */
export function requiredVar(hint: string) {
  return v.pipe(v.optional(v.string(), ''), v.nonEmpty(hint));
}

/** The log level variable shared by every service. */
export const logLevelVar = v.optional(
  v.picklist(['debug', 'info', 'warn', 'error'], 'must be debug, info, warn or error'),
  'info',
);

/** `TRIKEY_TRANSPORT_KEYS`: the transport keys shared by generate-keys and dispatch-email. */
export const transportKeysVar = v.pipe(
  requiredVar('must be set; `npx trikey keygen` prints a value'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseTransportKeys(dataset.value);
    } catch (error) {
      addIssue({ message: (error as Error).message });
      return NEVER;
    }
  }),
);
