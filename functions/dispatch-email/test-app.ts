// Test support: a dispatch-email app whose sender keeps each email instead of calling SES.
import { silentLogger, type TransportKey } from '../../shared/index.ts';
import { createDispatchEmailApp } from './app.ts';
import type { ShareEmail } from './email.ts';
import { Ledger } from './ledger.ts';
import type { Mailbox, SendResult } from './mailer.ts';

/** Settings of a test mailer; every one has a default. */
export interface TestMailerOptions {
  /** What SES answers for one email; by default a success with message id `ses-N`. */
  answer?: (to: Mailbox) => SendResult | undefined;
  /** The ledger's clock, for tests of the dedupe window. */
  now?: () => number;
  /** How long each send takes, so that concurrent deliveries overlap. */
  sendDelayMs?: number;
}

/** Builds dispatch-email with an in-memory sender; `sent` lists every email, in order. */
export function testDispatchEmail(
  transportKeys: readonly TransportKey[],
  options: TestMailerOptions = {},
) {
  const sent: { to: string; email: ShareEmail }[] = [];
  const app = createDispatchEmailApp({
    transportKeys,
    maxBodyBytes: 1_048_576,
    logger: silentLogger,
    ledger: new Ledger({ windowMs: 60_000, maxEntries: 1000, now: options.now }),
    send: async (to, email) => {
      sent.push({ to: to.email, email });
      if (options.sendDelayMs)
        await new Promise((resolve) => setTimeout(resolve, options.sendDelayMs));
      return options.answer?.(to) ?? { ok: true, messageId: `ses-${sent.length}` };
    },
  });
  return { app, sent };
}
