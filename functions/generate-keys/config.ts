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
} from '../../shared/index.ts';

const ConfigSchema = v.object({
  PORT: intVar(8080, 1, 65535),
  HOST: v.optional(v.pipe(v.string(), v.nonEmpty('must name an interface')), '127.0.0.1'),
  K_SINK: v.pipe(requiredVar('must be set to the URL that share events go to'), httpUrl),
  TRIKEY_TRANSPORT_KEYS: transportKeysVar,
  TRIKEY_MAX_CUSTODIANS: intVar(20, 2, 255),
  TRIKEY_REQUIRE_CUSTODIAN_KEYS: v.pipe(
    v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'false'),
    v.transform((value) => value === 'true'),
  ),
  TRIKEY_DEFAULT_LOCALE: v.optional(v.picklist(['es', 'en'], 'must be "es" or "en"'), 'en'),
  TRIKEY_PUBLISH_TIMEOUT_MS: intVar(4000, 100, 60_000),
  TRIKEY_VOID_RETRY_SECONDS: intVar(900, 0, 86_400),
  TRIKEY_MAX_BODY_BYTES: intVar(16_384, 1024, 131_072),
  TRIKEY_LOG_LEVEL: logLevelVar,
});

/** generate-keys' settings, read once from the environment. */
export interface GenerateKeysConfig {
  port: number;
  host: string;
  sink: string;
  transportKeys: readonly TransportKey[];
  maxCustodians: number;
  /** Whether every custodian must give an age recipient. */
  requireCustodianKeys: boolean;
  defaultLocale: 'es' | 'en';
  publishTimeoutMs: number;
  /** How long a voided event is retried while the broker refuses it. */
  voidForMs: number;
  maxBodyBytes: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Reads and validates generate-keys' environment; throws a ConfigError naming a bad variable. */
export function loadConfig(env: Env): GenerateKeysConfig {
  const raw = readConfig(ConfigSchema, env);
  return Object.freeze({
    port: raw.PORT,
    host: raw.HOST,
    sink: raw.K_SINK,
    transportKeys: raw.TRIKEY_TRANSPORT_KEYS,
    maxCustodians: raw.TRIKEY_MAX_CUSTODIANS,
    requireCustodianKeys: raw.TRIKEY_REQUIRE_CUSTODIAN_KEYS,
    defaultLocale: raw.TRIKEY_DEFAULT_LOCALE,
    publishTimeoutMs: raw.TRIKEY_PUBLISH_TIMEOUT_MS,
    voidForMs: raw.TRIKEY_VOID_RETRY_SECONDS * 1000,
    maxBodyBytes: raw.TRIKEY_MAX_BODY_BYTES,
    logLevel: raw.TRIKEY_LOG_LEVEL,
  });
}
