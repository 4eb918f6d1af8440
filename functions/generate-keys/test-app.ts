// Test support: a generate-keys app that keeps the events it publishes instead of sending them.
import {
  parseTransportKeys,
  silentLogger,
  type OutgoingEvent,
  type SinkAnswer,
} from '../../shared/index.ts';
import { createGenerateKeysApp, type GenerateKeysDeps } from './app.ts';
import { authOff } from './auth.ts';
import { createVoider } from './voider.ts';

/** The transport key of test apps, unless a test gives its own. */
export const testTransportKeys = parseTransportKeys(
  'test:' + Buffer.alloc(32, 7).toString('base64'),
);

/**
 * Builds generate-keys with no authentication, no rate limit worth the name, and a broker that
 * answers `answer` to every event and keeps them in `emitted` (voids in `voided`).
 */
export function testGenerateKeys(
  overrides: Partial<GenerateKeysDeps> = {},
  answer: SinkAnswer = { ok: true, status: 202 },
) {
  const emitted: OutgoingEvent[] = [];
  const voided: OutgoingEvent[] = [];
  const emit = async (_sink: string, event: OutgoingEvent) => {
    emitted.push(event);
    return answer;
  };
  const voider = createVoider({
    sink: 'http://sink.test/',
    publishTimeoutMs: 1000,
    giveUpAfterMs: 1000,
    firstDelayMs: 10,
    logger: silentLogger,
    emit: async (_sink, event) => {
      voided.push(event);
      return { ok: true, status: 202 };
    },
  });
  const app = createGenerateKeysApp({
    sink: 'http://sink.test/',
    transportKeys: testTransportKeys,
    maxCustodians: 20,
    requireCustodianKeys: false,
    defaultLocale: 'en',
    publishTimeoutMs: 1000,
    maxBodyBytes: 16_384,
    logger: silentLogger,
    emit,
    voider,
    auth: authOff,
    rateLimit: { perMinute: 1e9, burst: 1e9 },
    ...overrides,
  });
  return { app, emitted, voided, voider };
}
