import { html } from 'hono/html';
import type { SealedShare } from '../../shared/index.ts';

/** A rendered share email: one subject, a plain-text body and an HTML body. */
export interface ShareEmail {
  subject: string;
  text: string;
  html: string;
}

interface Words {
  subject: (share: SealedShare) => string;
  greeting: (name: string) => string;
  intro: string;
  quorum: (share: SealedShare) => string;
  allNeeded: string;
  label: string;
  keyId: string;
  fingerprint: string;
  yourShare: string;
  shareOf: (share: SealedShare) => string;
  admin: string;
  others: string;
  tokenHeading: string;
  ageHeading: (recipient: string) => string;
  openHeading: string;
  open: string;
  opened: string;
  rebuildHeading: string;
  rebuild: (share: SealedShare) => string;
  verify: string;
  keepSafe: string;
  keepSafeAge: string;
  ceremony: (id: string) => string;
}

const english: Words = {
  subject: (s) => `Your Trikey key share ${s.shareNumber} of ${s.total}: ${s.label ?? s.keyId}`,
  greeting: (name) => `Hello ${name},`,
  intro:
    'You are a custodian of an encryption key made in a Trikey key ceremony. This email holds ' +
    'your share of it. Nobody, Trikey included, keeps a copy of the key itself.',
  quorum: (s) =>
    `Any ${s.threshold} of the ${s.total} custodians can rebuild the key together; fewer cannot.`,
  allNeeded: 'Every share is needed to rebuild this key: if one is lost, the key is lost.',
  label: 'Label',
  keyId: 'Key ID',
  fingerprint: 'Fingerprint',
  yourShare: 'Your share',
  shareOf: (s) => `${s.shareNumber} of ${s.total} (${s.threshold} needed)`,
  admin: 'Admin',
  others: 'Other custodians',
  tokenHeading: 'Your share token:',
  ageHeading: (recipient) => `Your share, encrypted with age to your key ${recipient}:`,
  openHeading: 'To read your share token',
  open:
    'Only your age identity opens it. Save the block above, from BEGIN to END, as share.age and ' +
    'run either command (KEY_FILE is your age identity file, as age-keygen wrote it):',
  opened: 'Both print your share token (trikey1...). Then rebuild the key as below.',
  rebuildHeading: 'To rebuild the key',
  rebuild: (s) =>
    `Bring ${s.threshold} share tokens together on a trusted, offline machine with the trikey ` +
    'command (it comes with Trikey: npm ci in its repository) and run:',
  verify:
    'It checks every token, rebuilds the key and prints its fingerprint: it must match the one above.',
  keepSafe:
    'Keep this token offline (in a password manager or on paper in a safe), share it with nobody ' +
    'until the key must be rebuilt, and then delete this email.',
  keepSafeAge:
    'Keep this email (or the block) and your age identity safe. Open the block only when the key ' +
    'must be rebuilt, and share the token with nobody until then.',
  ceremony: (id) => `Ceremony ${id}`,
};

const spanish: Words = {
  subject: (s) =>
    `Tu fragmento de clave Trikey ${s.shareNumber} de ${s.total}: ${s.label ?? s.keyId}`,
  greeting: (name) => `Hola, ${name}:`,
  intro:
    'Eres custodio de una clave de cifrado creada en una ceremonia de Trikey. Este correo ' +
    'contiene tu fragmento. Nadie, tampoco Trikey, guarda una copia de la clave.',
  quorum: (s) =>
    `Cualesquiera ${s.threshold} de los ${s.total} custodios pueden reconstruir la clave juntos; menos no pueden.`,
  allNeeded:
    'Se necesitan todos los fragmentos para reconstruir esta clave: si se pierde uno, se pierde la clave.',
  label: 'Etiqueta',
  keyId: 'ID de la clave',
  fingerprint: 'Huella',
  yourShare: 'Tu fragmento',
  shareOf: (s) => `${s.shareNumber} de ${s.total} (se necesitan ${s.threshold})`,
  admin: 'Administrador',
  others: 'Otros custodios',
  tokenHeading: 'Tu token de fragmento:',
  ageHeading: (recipient) => `Tu fragmento, cifrado con age para tu clave ${recipient}:`,
  openHeading: 'Para leer tu token de fragmento',
  open:
    'Solo tu identidad de age lo abre. Guarda el bloque de arriba, de BEGIN a END, como ' +
    'share.age y ejecuta uno de estos comandos (KEY_FILE es tu archivo de identidad de age, el ' +
    'que escribió age-keygen):',
  opened:
    'Los dos imprimen tu token de fragmento (trikey1...). Después, reconstruye la clave como se ' +
    'indica abajo.',
  rebuildHeading: 'Para reconstruir la clave',
  rebuild: (s) =>
    `Reúne ${s.threshold} tokens de fragmento en una máquina de confianza y sin conexión, con el ` +
    'comando trikey (viene con Trikey: npm ci en su repositorio), y ejecuta:',
  verify:
    'El comando comprueba cada fragmento, reconstruye la clave e imprime su huella, que debe ' +
    'coincidir con la de arriba.',
  keepSafe:
    'Guarda este fragmento fuera de línea (en un gestor de contraseñas o en papel, en una caja ' +
    'fuerte), no lo compartas hasta que haya que reconstruir la clave y luego borra este correo.',
  keepSafeAge:
    'Guarda este correo (o el bloque) y tu identidad de age en un lugar seguro. Abre el bloque ' +
    'solo cuando haya que reconstruir la clave y no compartas el token con nadie hasta entonces.',
  ceremony: (id) => `Ceremonia ${id}`,
};

const dictionaries = { en: english, es: spanish } as const;

const openCommands = [
  'age -d -i KEY_FILE share.age > share.txt',
  'npx trikey open -i KEY_FILE < share.age',
];

/**
 * Renders the email that carries one custodian's share, in the ceremony's language: the share
 * token, or for a custodian with an age recipient the armored block and how to open it.
 */
export function renderShareEmail(share: SealedShare): ShareEmail {
  const words = dictionaries[share.locale];
  const command = 'npx trikey combine TOKEN_1 TOKEN_2 ...';
  // Names only, and not the reader's own: share i + 1 belongs to the custodian at index i.
  const others = share.custodianNames.filter((_, index) => index !== share.shareNumber - 1);
  const quorum = share.threshold === share.total ? words.allNeeded : words.quorum(share);
  const facts: [string, string][] = [
    ...(share.label ? [[words.label, share.label] as [string, string]] : []),
    [words.keyId, share.keyId],
    [words.fingerprint, share.fingerprint],
    [words.yourShare, words.shareOf(share)],
    [words.admin, share.admin.name],
    [words.others, others.join(', ')],
  ];
  const width = Math.max(...facts.map(([name]) => name.length)) + 2;

  const text = [
    words.greeting(share.custodian.name),
    '',
    words.intro,
    quorum,
    '',
    ...facts.map(([name, value]) => `${(name + ':').padEnd(width)}${value}`),
    '',
    ...('age' in share
      ? [
          words.ageHeading(share.age.recipient),
          '',
          share.age.armored.trimEnd(),
          '',
          `${words.openHeading}: ${words.open}`,
          '',
          ...openCommands.map((each) => `  ${each}`),
          '',
          words.opened,
        ]
      : [words.tokenHeading, '', share.token]),
    '',
    `${words.rebuildHeading}: ${words.rebuild(share)}`,
    '',
    `  ${command}`,
    '',
    words.verify,
    '',
    'age' in share ? words.keepSafeAge : words.keepSafe,
    '',
    words.ceremony(share.ceremonyId),
    '',
  ].join('\n');

  const tokenStyle = 'font-size: 1.1em; padding: 0.5em; background: #f4f4f4';
  const shareHtml =
    'age' in share
      ? html`<p>${words.ageHeading(share.age.recipient)}</p>
          <pre style="padding: 0.5em; background: #f4f4f4">${share.age.armored}</pre>
          <h3>${words.openHeading}</h3>
          <p>${words.open}</p>
          <pre>${openCommands.join('\n')}</pre>
          <p>${words.opened}</p>`
      : html`<p>${words.tokenHeading}</p>
          <pre style="${tokenStyle}">${share.token}</pre>`;
  // hono/html escapes every interpolated value, so caller-given names and labels stay text.
  const body = html`<!doctype html>
    <html lang="${share.locale}">
      <head>
        <meta charset="utf-8" />
        <title>${words.subject(share)}</title>
      </head>
      <body style="font-family: sans-serif; line-height: 1.4">
        <p>${words.greeting(share.custodian.name)}</p>
        <p>${words.intro}</p>
        <p><strong>${quorum}</strong></p>
        <table>
          ${facts.map(
            ([name, value]) =>
              html`<tr>
                <th align="left">${name}</th>
                <td>${value}</td>
              </tr>`,
          )}
        </table>
        ${shareHtml}
        <h3>${words.rebuildHeading}</h3>
        <p>${words.rebuild(share)}</p>
        <pre>${command}</pre>
        <p>${words.verify}</p>
        <p>${'age' in share ? words.keepSafeAge : words.keepSafe}</p>
        <p><small>${words.ceremony(share.ceremonyId)}</small></p>
      </body>
    </html> `;
  return { subject: words.subject(share), text, html: String(body) };
}
