import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { buffer as readAllBytes, text as readAll } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import {
  AgeShareError,
  CombineError,
  combineShares,
  extractShareTokens,
  newTransportKeyEntry,
  openAgeShare,
  parseAgeIdentities,
} from '../shared/index.ts';
import { formatCeremonyStatus, readCeremonyStatus } from '../eventing/index.ts';

const usage = `Usage:
  trikey combine [--json] [--out FILE] [--fingerprint HEX] SHARE...
      Checks the share tokens, rebuilds the key, verifies it and prints it in base64.
      With no SHARE arguments (or with -), reads tokens from standard input. Tokens may be
      wrapped over several lines or separated by spaces or commas; # starts a comment line.
      --json         print {"keyId", "fingerprint", "key"} instead
      --out FILE     write the key to FILE (created with mode 600, never overwritten)
      --fingerprint  also require the rebuilt key to have this fingerprint
  trikey open -i IDENTITY_FILE... [FILE]
      Decrypts a share that was emailed as an age encrypted block and prints its share token.
      Reads the block from FILE, or from standard input (a whole email pasted is fine).
      -i IDENTITY_FILE  an age identity file (AGE-SECRET-KEY-1... lines, # comments), as
                        age-keygen writes it; repeat -i to try several
  trikey status [--json] CEREMONY_ID
      Reports each share of a ceremony: issued, delivered (with the SES message id), failed
      (why), dead-lettered or voided, as the broker's status stream recorded them. Reads
      RabbitMQ at AMQP_URL (amqp://guest:guest@127.0.0.1:5672) for the broker named by
      TRIKEY_BROKER_NAME (trikey).
  trikey keygen
      Prints a new transport key entry for TRIKEY_TRANSPORT_KEYS.
  trikey token
      Prints a new API token for a client, and on standard error the sha256: line that
      TRIKEY_API_TOKENS_FILE keeps instead of the token.
`;

/** Why the command stopped; `code` is the exit status (1 refused, 2 misused). */
class Stop extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

async function combineCommand(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        fingerprint: { type: 'string' },
      },
    });
  } catch (error) {
    throw new Stop(`${(error as Error).message}\n\n${usage}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.out !== undefined && (values.out === '' || /^trikey1/i.test(values.out))) {
    throw new Stop(`--out needs a file name before the shares\n\n${usage}`, 2);
  }
  if (
    values.fingerprint !== undefined &&
    !/^[0-9a-f]{64}$/i.test(values.fingerprint.replace(/[\s:]/g, ''))
  ) {
    throw new Stop(`--fingerprint needs the 64 hex digits of a fingerprint\n\n${usage}`, 2);
  }
  const given = positionals.filter((token) => token !== '-');
  let text = given.join('\n');
  if (given.length === 0 || positionals.includes('-')) {
    if (process.stdin.isTTY && given.length === 0) {
      throw new Stop(
        `give the share tokens as arguments or one per line on standard input\n\n${usage}`,
        2,
      );
    }
    text += '\n' + (await readStdin());
  }

  const combined = await combineShares(extractShareTokens(text), values.fingerprint);
  if (combined.setAside.length > 0) {
    const numbers = combined.setAside.join(', ');
    process.stderr.write(
      `trikey: warning: share ${numbers} did not fit with the others and was left out; ` +
        'find out how it came to be altered\n',
    );
  }
  const key = Buffer.from(combined.key).toString('base64');
  combined.key.fill(0);

  if (values.out) {
    try {
      writeFileSync(values.out, key + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' ? 'it already exists' : (code ?? 'it could not be written');
      throw new Stop(`cannot write ${values.out}: ${why}`, 1);
    }
  }
  const shown = values.out ? undefined : key;
  if (values.json) {
    const body = {
      keyId: combined.keyId,
      fingerprint: combined.fingerprint,
      key: shown,
      file: values.out,
    };
    process.stdout.write(JSON.stringify(body) + '\n');
    return;
  }
  process.stderr.write(
    `key id ${combined.keyId}, ${combined.threshold} of ${combined.total} shares needed\n` +
      `fingerprint ${combined.fingerprint}\n`,
  );
  if (shown) process.stdout.write(shown + '\n');
  else process.stderr.write(`key written to ${values.out}\n`);
}

async function openCommand(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { identity: { type: 'string', short: 'i', multiple: true } },
    });
  } catch (error) {
    throw new Stop(`${(error as Error).message}\n\n${usage}`, 2);
  }
  const identityFiles = parsed.values.identity ?? [];
  const [file, ...extra] = parsed.positionals;
  if (identityFiles.length === 0) {
    throw new Stop(`give your age identity file with -i\n\n${usage}`, 2);
  }
  if (extra.length > 0) {
    throw new Stop(`give one encrypted share at a time\n\n${usage}`, 2);
  }
  if ((file === undefined || file === '-') && process.stdin.isTTY) {
    throw new Stop(`give the encrypted share as FILE or on standard input\n\n${usage}`, 2);
  }

  const identities = identityFiles.flatMap((name) =>
    parseAgeIdentities(readOrStop(name, 'identity file').toString('utf8'), name),
  );
  const encrypted =
    file === undefined || file === '-'
      ? await readAllBytes(process.stdin)
      : readOrStop(file, 'file');
  process.stdout.write((await openAgeShare(encrypted, identities)) + '\n');
}

function readOrStop(name: string, what: string): Buffer {
  try {
    return readFileSync(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'it could not be read';
    throw new Stop(`cannot read ${what} ${name}: ${code}`, 1);
  }
}

async function statusCommand(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false } },
    });
  } catch (error) {
    throw new Stop(`${(error as Error).message}\n\n${usage}`, 2);
  }
  const [ceremonyId, ...extra] = parsed.positionals;
  if (!ceremonyId || extra.length > 0 || !/^[0-9a-f-]{36}$/i.test(ceremonyId)) {
    throw new Stop(`give one ceremony id, as the 202 answer named it\n\n${usage}`, 2);
  }
  const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  const brokerName = process.env.TRIKEY_BROKER_NAME ?? 'trikey';
  let status;
  try {
    status = await readCeremonyStatus({ url, brokerName, ceremonyId: ceremonyId.toLowerCase() });
  } catch (error) {
    throw new Stop((error as Error).message, 1);
  }
  if (parsed.values.json) {
    process.stdout.write(JSON.stringify(status) + '\n');
  } else {
    process.stdout.write(formatCeremonyStatus(status) + '\n');
  }
  if (status.shares.length === 0) {
    process.stderr.write(
      `trikey: nothing recorded for it in broker "${brokerName}" at ${redact(url)}; ` +
        'check the ceremony id and TRIKEY_BROKER_NAME\n',
    );
    process.exitCode = 1;
  }
}

// An AMQP URL without its password, for messages.
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'AMQP_URL';
  }
}

function readStdin(): Promise<string> {
  return readAll(process.stdin);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'combine':
      return combineCommand(rest);
    case 'open':
      return openCommand(rest);
    case 'status':
      return statusCommand(rest);
    case 'keygen':
      process.stdout.write(newTransportKeyEntry() + '\n');
      return;
    case 'token': {
      const token = randomBytes(32).toString('base64url');
      process.stdout.write(token + '\n');
      const hash = createHash('sha256').update(token).digest('hex');
      process.stderr.write(`for TRIKEY_API_TOKENS_FILE: sha256:${hash}\n`);
      return;
    }
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return;
    default:
      throw new Stop(
        `${command ? `unknown command "${command}"` : 'no command given'}\n\n${usage}`,
        2,
      );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof Stop) {
    process.stderr.write(`trikey: ${error.message}\n`);
    process.exitCode = error.code;
  } else if (error instanceof AgeShareError) {
    process.stderr.write(`trikey: cannot open the share: ${error.message}\n`);
    process.exitCode = 1;
  } else if (error instanceof CombineError) {
    process.stderr.write(`trikey: cannot combine: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`trikey: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
});
