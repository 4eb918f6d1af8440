import type { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { formatMailbox, toMailableAddress } from '../../shared/index.ts';
import type { ShareEmail } from './email.ts';

/** The result of one send: an SES message id, or why it failed and whether to try again. */
export type SendResult =
  { ok: true; messageId: string } | { ok: false; retryable: boolean; reason: string };

/** Someone an email goes to or comes from. */
export interface Mailbox {
  name: string;
  email: string;
}

/** Sends one email to one person. */
export type SendEmail = (to: Mailbox, email: ShareEmail) => Promise<SendResult>;

/** SES settings. */
export interface SesSettings {
  region: string;
  endpoint?: string;
  from: Mailbox;
  timeoutMs: number;
  configurationSet?: string;
}

// SES errors that say the message or the account setup is wrong: sending again cannot help.
const permanentErrors = new Set([
  'BadRequestException',
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
]);

/** Builds a sender over SESv2 `SendEmail`; credentials come from the SDK's default chain. */
export function createSesSender(settings: SesSettings): SendEmail {
  // The SDK is most of dispatch-email's code: it loads with the first email, not at start, so
  // that a scaled-from-zero mailer is ready sooner. Its first send pays for it once.
  let sdk: Promise<{ client: SESv2Client; SendEmailCommand: typeof SendEmailCommand }> | undefined;
  const load = () =>
    (sdk ??= import('@aws-sdk/client-sesv2')
      .then((module) => ({
        client: new module.SESv2Client({
          region: settings.region,
          endpoint: settings.endpoint,
          maxAttempts: 1,
          // The timeout lives in the client, not in each send's options: a send with options
          // resolves the SDK's middleware stack anew, about a fifth of its cost per email here.
          requestHandler: {
            connectionTimeout: settings.timeoutMs,
            requestTimeout: settings.timeoutMs,
            throwOnRequestTimeout: true,
          },
          cacheMiddleware: true,
        }),
        SendEmailCommand: module.SendEmailCommand,
      }))
      .catch((error: unknown) => {
        sdk = undefined; // the next email tries again
        throw error;
      }));
  return async (to, email) => {
    const { client, SendEmailCommand } = await load();
    // SES takes mailboxes as header text: names go through formatMailbox, which quotes or
    // RFC 2047-encodes them, never straight into the string.
    const command = new SendEmailCommand({
      FromEmailAddress: formatMailbox(settings.from.name, settings.from.email),
      Destination: { ToAddresses: [formatMailbox(to.name, toMailableAddress(to.email))] },
      ConfigurationSetName: settings.configurationSet,
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: {
            Text: { Data: email.text, Charset: 'UTF-8' },
            Html: { Data: email.html, Charset: 'UTF-8' },
          },
        },
      },
    });
    try {
      const output = await client.send(command);
      if (!output.MessageId)
        return { ok: false, retryable: true, reason: 'SES returned no message id' };
      return { ok: true, messageId: output.MessageId };
    } catch (error) {
      return classify(error);
    }
  };
}

function classify(error: unknown): SendResult {
  const failure = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const name = failure.name ?? 'Error';
  const status = failure.$metadata?.httpStatusCode;
  if (permanentErrors.has(name)) {
    return { ok: false, retryable: false, reason: `SES refused the message: ${name}` };
  }
  const detail = status ? `${name} (HTTP ${status})` : name;
  return { ok: false, retryable: true, reason: `SES did not send the message: ${detail}` };
}
