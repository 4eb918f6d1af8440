import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { createApiTokens, tokenHashes, type AuthOptions } from './auth.ts';
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

// Printable ASCII without spaces or commas, long enough not to be guessed.
const apiToken = /^[\x21-\x2b\x2d-\x7e]{32,512}$/;
const listVar = v.pipe(
  v.optional(v.string(), ''),
  v.transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
);

const ConfigSchema = v.pipe(
  v.object({
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
    TRIKEY_AUTH: v.optional(v.picklist(['required', 'off'], 'must be required or off'), 'required'),
    TRIKEY_API_TOKENS: v.pipe(
      listVar,
      v.check(
        (tokens) => tokens.every((token) => apiToken.test(token)),
        'each token must be 32 to 512 printable ASCII characters without spaces or commas',
      ),
    ),
    TRIKEY_API_TOKENS_FILE: v.optional(
      v.pipe(
        v.string(),
        v.nonEmpty('must name a file'),
        v.rawTransform(({ dataset, addIssue, NEVER }) => {
          try {
            return readTokenFile(dataset.value);
          } catch (error) {
            addIssue({ message: (error as Error).message });
            return NEVER;
          }
        }),
      ),
    ),
    TRIKEY_ALLOWED_SOURCES: listVar,
    TRIKEY_RATE_LIMIT_PER_MINUTE: intVar(60, 1, 1_000_000),
    TRIKEY_RATE_LIMIT_BURST: intVar(10, 1, 1_000_000),
    TRIKEY_REQUEST_TIMEOUT_MS: intVar(10_000, 1000, 120_000),
  }),
  v.forward(
    v.check(
      (env) =>
        env.TRIKEY_AUTH === 'off' ||
        env.TRIKEY_API_TOKENS.length + (env.TRIKEY_API_TOKENS_FILE?.length ?? 0) > 0,
      'must be set (or TRIKEY_API_TOKENS_FILE), unless TRIKEY_AUTH=off runs without authentication',
    ),
    ['TRIKEY_API_TOKENS'],
  ),
);

/**
 * Reads a token file: one `sha256:HEX` line a token (`trikey token` prints one), `#` comments.
 * A file keeps only hashes, so that reading it gives nobody a token.
 */
function readTokenFile(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const entries = lines.map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  entries.forEach((entry, index) => {
    if (!/^sha256:[0-9a-f]{64}$/i.test(entry)) {
      throw new Error(`line ${index + 1} of the file is not sha256:HEX (trikey token makes one)`);
    }
  });
  if (entries.length === 0) throw new Error('the file holds no token hash');
  return entries;
}

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
  auth: AuthOptions;
  rateLimit: { perMinute: number; burst: number };
  requestTimeoutMs: number;
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
    auth: Object.freeze({
      tokens:
        raw.TRIKEY_AUTH === 'off'
          ? undefined
          : createApiTokens(
              tokenHashes([...raw.TRIKEY_API_TOKENS, ...(raw.TRIKEY_API_TOKENS_FILE ?? [])]),
            ),
      // With authentication off and no list, any source; with it on, only the sources listed.
      allowedSources:
        raw.TRIKEY_ALLOWED_SOURCES.length > 0 || raw.TRIKEY_AUTH === 'required'
          ? raw.TRIKEY_ALLOWED_SOURCES
          : undefined,
    }),
    rateLimit: Object.freeze({
      perMinute: raw.TRIKEY_RATE_LIMIT_PER_MINUTE,
      burst: raw.TRIKEY_RATE_LIMIT_BURST,
    }),
    requestTimeoutMs: raw.TRIKEY_REQUEST_TIMEOUT_MS,
    logLevel: raw.TRIKEY_LOG_LEVEL,
  });
}
