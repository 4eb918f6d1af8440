import * as v from 'valibot';
import {
  httpUrl,
  intVar,
  logLevelVar,
  readConfig,
  requiredVar,
  transportKeysVar,
  type Env,
  type TransportKey,
  AddressError,
  toMailableAddress,
} from '../../shared/index.ts';
import type { Mailbox } from './mailer.ts';

const ConfigSchema = v.object({
  PORT: intVar(8081, 1, 65535),
  HOST: v.optional(v.pipe(v.string(), v.nonEmpty('must name an interface')), '127.0.0.1'),
  TRIKEY_TRANSPORT_KEYS: transportKeysVar,
  TRIKEY_SES_FROM: v.pipe(
    requiredVar('must be set to the verified sender, such as "Trikey <keys@example.com>"'),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const match = /^\s*(?:([^<>\r\n]*?)\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(dataset.value);
      try {
        if (!match) throw new AddressError('must be "Name <address>" or an address');
        const email = toMailableAddress((match[2] ?? match[3])!);
        return { name: match[1]?.replace(/^"|"$/g, '') ?? '', email };
      } catch (error) {
        addIssue({ message: (error as Error).message });
        return NEVER;
      }
    }),
  ),
  TRIKEY_SES_REGION: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
    ),
  ),
  AWS_REGION: v.optional(v.string()),
  TRIKEY_SES_ENDPOINT: v.optional(httpUrl),
  TRIKEY_SES_CONFIGURATION_SET: v.optional(v.pipe(v.string(), v.nonEmpty())),
  TRIKEY_SES_TIMEOUT_MS: intVar(10_000, 100, 120_000),
  TRIKEY_MAX_BODY_BYTES: intVar(1_048_576, 1_048_576, 8_388_608),
  TRIKEY_DEDUPE_WINDOW_SECONDS: intVar(86_400, 60, 30 * 86_400),
  TRIKEY_DEDUPE_MAX_ENTRIES: intVar(100_000, 100, 10_000_000),
  TRIKEY_LOG_LEVEL: logLevelVar,
});

/** dispatch-email's settings, read once from the environment. */
export interface DispatchEmailConfig {
  port: number;
  host: string;
  transportKeys: readonly TransportKey[];
  ses: {
    from: Mailbox;
    region: string;
    endpoint?: string;
    configurationSet?: string;
    timeoutMs: number;
  };
  maxBodyBytes: number;
  /** How long, and for how many events, sent shares and voids are remembered. */
  dedupe: { windowMs: number; maxEntries: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Reads and validates dispatch-email's environment; throws a ConfigError naming a bad variable. */
export function loadConfig(env: Env): DispatchEmailConfig {
  const raw = readConfig(ConfigSchema, env);
  return Object.freeze({
    port: raw.PORT,
    host: raw.HOST,
    transportKeys: raw.TRIKEY_TRANSPORT_KEYS,
    ses: Object.freeze({
      from: raw.TRIKEY_SES_FROM,
      region: raw.TRIKEY_SES_REGION ?? raw.AWS_REGION ?? 'us-east-1',
      endpoint: raw.TRIKEY_SES_ENDPOINT,
      configurationSet: raw.TRIKEY_SES_CONFIGURATION_SET,
      timeoutMs: raw.TRIKEY_SES_TIMEOUT_MS,
    }),
    maxBodyBytes: raw.TRIKEY_MAX_BODY_BYTES,
    dedupe: Object.freeze({
      windowMs: raw.TRIKEY_DEDUPE_WINDOW_SECONDS * 1000,
      maxEntries: raw.TRIKEY_DEDUPE_MAX_ENTRIES,
    }),
    logLevel: raw.TRIKEY_LOG_LEVEL,
  });
}
