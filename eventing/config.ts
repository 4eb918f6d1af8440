import * as v from 'valibot';
import { ConfigError, intVar, logLevelVar, readConfig, type Env } from '../shared/index.ts';
import { loadTriggers, type TriggerList } from './triggers.ts';

const AmqpUrlVar = v.optional(
  v.pipe(
    v.string(),
    v.regex(/^amqps?:\/\/\S+$/, 'must be an amqp:// or amqps:// URL'),
    v.check((text) => URL.canParse(text), 'must be an amqp:// or amqps:// URL'),
  ),
  'amqp://guest:guest@127.0.0.1:5672',
);

// `name=url` pairs separated by commas: each subscriber's base URL.
const SubscribersVar = v.pipe(
  v.optional(v.string(), ''),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const subscribers: Record<string, string> = {};
    const entries = dataset.value.split(',').map((entry) => entry.trim());
    for (const entry of entries.filter(Boolean)) {
      const [name = '', url = ''] = entry.split(/=(.*)/s).map((part) => part.trim());
      if (!/^[a-z0-9-]+$/.test(name) || !url) {
        addIssue({ message: `"${entry}" is not a name=url pair` });
        return NEVER;
      }
      if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
        addIssue({ message: `the URL of ${name} must be an absolute http or https URL` });
        return NEVER;
      }
      if (subscribers[name]) {
        addIssue({ message: `${name} is named twice` });
        return NEVER;
      }
      subscribers[name] = url;
    }
    return subscribers;
  }),
);

const EnvSchema = v.object({
  AMQP_URL: AmqpUrlVar,
  HOST: v.optional(v.pipe(v.string(), v.ip('must be an IP address')), '127.0.0.1'),
  PORT: intVar(8082, 1, 65535),
  TRIKEY_BROKER_NAME: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and hyphens')),
    'trikey',
  ),
  TRIKEY_SUBSCRIBERS: SubscribersVar,
  TRIKEY_TRIGGERS_FILE: v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
  TRIKEY_PUBLISH_TIMEOUT_MS: intVar(5000, 100, 60_000),
  TRIKEY_LOG_LEVEL: logLevelVar,
});

/** The broker bridge's settings, read once from the environment and frozen. */
export interface BridgeConfig {
  amqpUrl: string;
  host: string;
  port: number;
  brokerName: string;
  subscribers: Readonly<Record<string, string>>;
  triggers: TriggerList;
  publishTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * Reads the bridge's environment and its trigger file; a ConfigError names the variable that is
 * wrong, including TRIKEY_SUBSCRIBERS when a trigger's subscriber or dead-letter sink has no URL.
 */
export async function readBridgeConfig(env: Env): Promise<Readonly<BridgeConfig>> {
  const vars = readConfig(EnvSchema, env);

  let triggers: TriggerList;
  try {
    triggers = await loadTriggers(vars.TRIKEY_TRIGGERS_FILE);
  } catch (error) {
    if (!(error instanceof ConfigError) || !vars.TRIKEY_TRIGGERS_FILE) throw error;
    throw new ConfigError(`invalid configuration: TRIKEY_TRIGGERS_FILE: ${error.message}`);
  }

  for (const trigger of triggers.triggers) {
    const needed = [{ role: 'subscriber', name: trigger.subscriber }];
    const sink = trigger.delivery.deadLetterSink?.ref;
    if (sink) needed.push({ role: 'dead-letter sink', name: sink });
    for (const { role, name } of needed) {
      if (vars.TRIKEY_SUBSCRIBERS[name]) continue;
      throw new ConfigError(
        `invalid configuration: TRIKEY_SUBSCRIBERS: no URL for ${role} ${name} ` +
          `of trigger ${trigger.name} (expected name=url pairs separated by commas)`,
      );
    }
  }

  return Object.freeze({
    amqpUrl: vars.AMQP_URL,
    host: vars.HOST,
    port: vars.PORT,
    brokerName: vars.TRIKEY_BROKER_NAME,
    subscribers: Object.freeze(vars.TRIKEY_SUBSCRIBERS),
    triggers,
    publishTimeoutMs: vars.TRIKEY_PUBLISH_TIMEOUT_MS,
    logLevel: vars.TRIKEY_LOG_LEVEL,
  });
}
