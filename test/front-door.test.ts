// generate-keys' front door over a real socket, as a hostile client meets it: no token or a
// wrong one, bodies far over the cap with and without Content-Length, a flood, a wrong media
// type, header injection in a name, and a client too slow to finish its request.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testGenerateKeys } from '../functions/generate-keys/test-app.ts';
import { createApiTokens, tokenHashes } from '../functions/generate-keys/auth.ts';
import { listen, type OutgoingEvent } from '../shared/index.ts';

const token = 'front-door-token-0123456789abcdefghijkl';
// A second client, so that the rate limit reached by one test does not answer another.
const slowToken = 'slow-client-token-0123456789abcdefghijk';
const body = JSON.stringify({ admin: 'ana@example.com', representatives: ['luis@example.com'] });
const twoMegabytes = 'x'.repeat(2 * 1024 * 1024);
let emitted: OutgoingEvent[] = [];
let url: string;
let port: number;
let close: () => void;

test.before(async () => {
  const made = testGenerateKeys({
    auth: { tokens: createApiTokens(tokenHashes([token, slowToken])), allowedSources: [] },
    rateLimit: { perMinute: 60, burst: 5 },
  });
  emitted = made.emitted;
  const app = made.app;
  const started = await listen(app, { port: 0, host: '127.0.0.1', requestTimeoutMs: 1500 });
  port = started.port;
  url = `http://127.0.0.1:${port}/generate-keys`;
  close = () => {
    started.server.close();
    (started.server as { closeAllConnections?: () => void }).closeAllConnections?.();
  };
});

test.after(() => close());

const authorised = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

// A request on a connection of its own (no pool), so that a server that cuts an upload short
// cannot leave a broken connection for the next test. `chunks` are sent without Content-Length.
function post(headers: Record<string, string>, payload: string | Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers, agent: false }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode!, headers: response.headers, text }),
      );
    });
    // The server may answer and close before the whole body is sent: the answer still counts.
    request.on('error', (error) => (request.writableEnded ? undefined : reject(error)));
    if (typeof payload === 'string') {
      request.end(payload);
    } else {
      for (const chunk of payload) request.write(chunk);
      request.end();
    }
  });
}

function problemOf(answer: Answer) {
  assert.is(answer.headers['content-type'], 'application/problem+json');
  return JSON.parse(answer.text) as {
    status: number;
    errors?: { pointer: string; detail: string }[];
  };
}

test('401 without a token and with a wrong one', async () => {
  const attempts: Record<string, string>[] = [
    { 'content-type': 'application/json' },
    { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
  ];
  for (const headers of attempts) {
    const answer = await post(headers, body);
    assert.is(answer.status, 401);
    assert.is(problemOf(answer).status, 401);
  }
});

test('413 for a 2 MB body announced by Content-Length', async () => {
  const answer = await post(authorised, twoMegabytes);
  assert.is(answer.status, 413);
  problemOf(answer);
});

test('413 for a 2 MB body sent chunked, without Content-Length', async () => {
  const chunks = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 120));
  const answer = await post(authorised, chunks);
  assert.is(answer.status, 413);
  problemOf(answer);
});

test('415 for another media type, 422 naming a name with CR LF Bcc', async () => {
  const plain = await post({ ...authorised, 'content-type': 'text/plain' }, body);
  assert.is(plain.status, 415);
  const injected = JSON.stringify({
    admin: { name: 'Eve\r\nBcc: someone@example.test', email: 'eve@example.com' },
    representatives: ['luis@example.com'],
  });
  const refused = await post(authorised, injected);
  assert.is(refused.status, 422);
  const { errors } = problemOf(refused);
  assert.is(errors![0]!.pointer, '/admin/name');
  assert.match(errors![0]!.detail, /line breaks/);
});

test('429 with Retry-After once the rate is exceeded, and nothing published beyond it', async () => {
  const before = emitted.length;
  const answers: Answer[] = [];
  for (let i = 0; i < 8; i++) answers.push(await post(authorised, body));
  const statuses = answers.map((answer) => answer.status);
  const limited = answers.find((answer) => answer.status === 429);
  assert.ok(limited, statuses.join(','));
  assert.ok(
    Number(limited!.headers['retry-after']) >= 1,
    `Retry-After ${limited!.headers['retry-after']}`,
  );
  const accepted = statuses.filter((status) => status === 202).length;
  assert.ok(accepted >= 1 && accepted <= 5, `${accepted} accepted with a burst of 5`);
  assert.is(emitted.length - before, accepted * 2, 'only accepted ceremonies published');
});

test('a client that does not finish its request is answered 408 and cut off', async () => {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /generate-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${slowToken}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"adm',
  );
  const started = Date.now();
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    setTimeout(() => resolve(text + '[still open]'), 6000).unref();
  });
  socket.destroy();
  assert.match(answer, /^HTTP\/1\.1 408/, answer.slice(0, 40));
  assert.match(answer, /content-type: application\/problem\+json/i);
  assert.match(answer, /"status":408/);
  assert.ok(Date.now() - started < 5000, 'cut off near the 1.5 s request timeout');
});

test.run();
