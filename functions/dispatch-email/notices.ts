import { html } from 'hono/html';
import type { ShareEmail } from './email.ts';

/** The facts a notice names: a ceremony, a key and one share's custodian, never the share. */
export interface NoticeFacts {
  ceremonyId: string;
  keyId: string;
  label: string | null;
  shareNumber: number;
  threshold?: number;
  total: number;
  custodian: { name: string; email: string };
  locale: 'es' | 'en';
}

interface NoticeWords {
  failedSubject: (f: NoticeFacts) => string;
  failed: (f: NoticeFacts, reason: string) => string[];
  voidSubject: (f: NoticeFacts) => string;
  voided: (f: NoticeFacts, reason: string) => string[];
  greeting: (name: string) => string;
}

const name = (f: NoticeFacts) => f.label ?? f.keyId;
const quorumLeft = (f: NoticeFacts, en: boolean) => {
  if (f.threshold === undefined) return '';
  if (f.threshold === f.total) {
    return en
      ? 'Every share is needed to rebuild this key, so without this one it cannot be rebuilt: run a new ceremony.'
      : 'Se necesitan todos los fragmentos para reconstruir esta clave, así que sin este no se puede: haz una nueva ceremonia.';
  }
  return en
    ? `${f.threshold} of the ${f.total} shares are needed to rebuild the key; the others were not affected.`
    : `Se necesitan ${f.threshold} de los ${f.total} fragmentos para reconstruir la clave; los demás no se vieron afectados.`;
};

const english: NoticeWords = {
  greeting: (n) => `Hello ${n},`,
  failedSubject: (f) =>
    `Trikey: share ${f.shareNumber} of ${f.total} of ${name(f)} was not delivered`,
  failed: (f, reason) => [
    `Share ${f.shareNumber} of ${f.total} of key ${f.keyId}${f.label ? ` (${f.label})` : ''}, ` +
      `for ${f.custodian.name} <${f.custodian.email}>, could not be emailed.`,
    `Reason: ${reason}`,
    quorumLeft(f, true),
    'The share itself is not in this email, and Trikey keeps no copy of it.',
    `Ceremony ${f.ceremonyId}`,
  ],
  voidSubject: (f) => `Trikey: your key share for ${name(f)} is void`,
  voided: (f, reason) => [
    `The key ceremony that sent you share ${f.shareNumber} of ${f.total} of key ${f.keyId}` +
      `${f.label ? ` (${f.label})` : ''} was not completed: ${reason}.`,
    'The key was discarded, so your share is of no use. Delete the email that holds it.',
    `Ceremony ${f.ceremonyId}`,
  ],
};

const spanish: NoticeWords = {
  greeting: (n) => `Hola, ${n}:`,
  failedSubject: (f) =>
    `Trikey: el fragmento ${f.shareNumber} de ${f.total} de ${name(f)} no se entregó`,
  failed: (f, reason) => [
    `El fragmento ${f.shareNumber} de ${f.total} de la clave ${f.keyId}` +
      `${f.label ? ` (${f.label})` : ''}, para ${f.custodian.name} <${f.custodian.email}>, ` +
      'no se pudo enviar por correo.',
    `Motivo: ${reason}`,
    quorumLeft(f, false),
    'Este correo no contiene el fragmento, y Trikey no guarda ninguna copia.',
    `Ceremonia ${f.ceremonyId}`,
  ],
  voidSubject: (f) => `Trikey: tu fragmento de clave de ${name(f)} queda anulado`,
  voided: (f, reason) => [
    `La ceremonia que te envió el fragmento ${f.shareNumber} de ${f.total} de la clave ` +
      `${f.keyId}${f.label ? ` (${f.label})` : ''} no se completó: ${reason}.`,
    'La clave se descartó, así que tu fragmento no sirve. Borra el correo que lo contiene.',
    `Ceremonia ${f.ceremonyId}`,
  ],
};

const dictionaries = { en: english, es: spanish } as const;

function render(subject: string, greeting: string, paragraphs: string[]): ShareEmail {
  const kept = paragraphs.filter(Boolean);
  const text = [greeting, '', ...kept.flatMap((paragraph) => [paragraph, '']), ''].join('\n');
  // hono/html escapes every interpolated value.
  const body = html`<!doctype html>
    <html>
      <head>
        <meta charset="utf-8" />
        <title>${subject}</title>
      </head>
      <body style="font-family: sans-serif; line-height: 1.4">
        <p>${greeting}</p>
        ${kept.map((paragraph) => html`<p>${paragraph}</p>`)}
      </body>
    </html> `;
  return { subject, text, html: String(body) };
}

/** The email that tells the admin one share could not be delivered. */
export function renderFailureNotice(
  facts: NoticeFacts,
  admin: { name: string },
  reason: string,
): ShareEmail {
  const words = dictionaries[facts.locale];
  return render(
    words.failedSubject(facts),
    words.greeting(admin.name),
    words.failed(facts, reason),
  );
}

/** The email that tells a custodian the share they received belongs to a voided ceremony. */
export function renderVoidNotice(facts: NoticeFacts, reason: string): ShareEmail {
  const words = dictionaries[facts.locale];
  return render(
    words.voidSubject(facts),
    words.greeting(facts.custodian.name),
    words.voided(facts, reason),
  );
}
