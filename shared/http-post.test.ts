import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { post, PostError } from './http-post.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

// A server on loopback whose answer each test sets; it records every body it received.
async function serverWith(handler: Handler) {
  const bodies: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      bodies.push(body);
      handler(request, response, body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    bodies,
    sockets,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<PostError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, PostError);
    return error as PostError;
  }
  throw new Error('the POST did not fail');
}

const options = { headers: { 'content-type': 'application/json' }, body: '{"a":1}' };

test('sends the body with its length and returns status, headers and the kept body', async () => {
  const server = await serverWith((request, response) => {
    response.writeHead(201, { 'ce-id': 'reply-1', 'x-length': request.headers['content-length'] });
    response.end('{"ok":true}');
  });
  const answer = await post(server.url, { ...options, timeoutMs: 2000, keepBodyBytes: 100 });
  assert.is(answer.status, 201);
  assert.is(answer.headers.get('ce-id'), 'reply-1');
  assert.is(answer.headers.get('x-length'), '7');
  assert.is(answer.body.toString(), '{"ok":true}');
  assert.equal(server.bodies, ['{"a":1}']);

  const dropped = await post(server.url, { ...options, timeoutMs: 2000 });
  assert.is(dropped.body.length, 0);
  await server.close();
});

test('does not follow a redirect', async () => {
  const server = await serverWith((_request, response) => {
    response.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }).end();
  });
  const answer = await post(server.url, { ...options, timeoutMs: 2000 });
  assert.is(answer.status, 307);
  assert.is(server.bodies.length, 1);
  await server.close();
});

test('gives up after timeoutMs on a server that sends headers and then nothing', async () => {
  const server = await serverWith((_request, response) => {
    response.writeHead(200, { 'content-length': '10' });
    response.write('12345');
  });
  const started = performance.now();
  const error = await failure(post(server.url, { ...options, timeoutMs: 200, keepBodyBytes: 100 }));
  assert.is(error.failure, 'timeout');
  const took = performance.now() - started;
  assert.ok(took >= 190 && took < 1500, `took ${took} ms`);
  await server.close();
});

test('stops when its signal aborts, and before sending when it already has', async () => {
  const server = await serverWith(() => {});
  const controller = new AbortController();
  const pending = post(server.url, { ...options, timeoutMs: 5000, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  assert.is((await failure(pending)).failure, 'aborted');
  const sent = server.bodies.length;
  const early = await failure(
    post(server.url, { ...options, timeoutMs: 5000, signal: controller.signal }),
  );
  assert.is(early.failure, 'aborted');
  assert.is(server.bodies.length, sent);
  await server.close();
});

test('drops an answer longer than keepBodyBytes and says so', async () => {
  const server = await serverWith((_request, response) => response.end('x'.repeat(5000)));
  const answer = await post(server.url, { ...options, timeoutMs: 2000, keepBodyBytes: 1000 });
  assert.is(answer.status, 200);
  assert.ok(answer.tooLarge);
  assert.is(answer.body.length, 0);
  const kept = await post(server.url, { ...options, timeoutMs: 2000, keepBodyBytes: 5000 });
  assert.not.ok(kept.tooLarge);
  assert.is(kept.body.length, 5000);
  await server.close();
});

test('fails within timeoutMs on a server that switches protocols instead of answering', async () => {
  const server = await serverWith((request) => {
    request.socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n',
    );
  });
  const controller = new AbortController();
  const started = performance.now();
  const error = await failure(
    post(server.url, { ...options, timeoutMs: 500, signal: controller.signal }),
  );
  assert.is(error.failure, 'network');
  assert.ok(performance.now() - started < 500);
  assert.is(EventEmitter.getEventListeners(controller.signal, 'abort').length, 0);
  await server.close();
});

test('reports a refused connection as a network failure with its code', async () => {
  const server = await serverWith(() => {});
  const { url } = server;
  await server.close();
  const error = await failure(post(url, { ...options, timeoutMs: 2000 }));
  assert.is(error.failure, 'network');
  assert.is(error.code, 'ECONNREFUSED');
});

test('sends once more on a new socket when a kept-alive one was dropped under it', async () => {
  // Each connection answers its first request and drops the second without an answer, as a
  // server does whose idle timeout fires just as a request arrives.
  const served = new WeakMap<object, number>();
  const server = await serverWith((request, response) => {
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    if (count > 1) request.socket.destroy();
    else response.end('ok');
  });
  assert.is((await post(server.url, { ...options, timeoutMs: 2000 })).status, 200);
  assert.is((await post(server.url, { ...options, timeoutMs: 2000 })).status, 200);
  assert.is(server.bodies.length, 3);
  await server.close();
});

test('does not send again when a fresh socket is dropped', async () => {
  const server = await serverWith((request) => request.socket.destroy());
  const error = await failure(post(server.url, { ...options, timeoutMs: 2000 }));
  assert.is(error.failure, 'network');
  assert.is(server.bodies.length, 1);
  await server.close();
});

test('does not send again once the answer has begun, on a reused socket too', async () => {
  const served = new WeakMap<object, number>();
  const server = await serverWith((request, response) => {
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    if (count === 1) return response.end('ok');
    response.writeHead(200, { 'content-length': '100' });
    response.write('partial', () => request.socket.resetAndDestroy());
  });
  assert.is((await post(server.url, { ...options, timeoutMs: 2000 })).status, 200);
  const error = await failure(
    post(server.url, { ...options, timeoutMs: 2000, keepBodyBytes: 200 }),
  );
  assert.is(error.failure, 'network');
  assert.is(server.bodies.length, 2);
  await server.close();
});

test('keeps to timeoutMs across the second try', async () => {
  const served = new WeakMap<object, number>();
  const server = await serverWith((request, response) => {
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    if (count === 1 && server.bodies.length === 1) return response.end('ok');
    // The second request on the first socket waits, then the socket drops without an answer;
    // the retry on a new socket is never answered.
    if (count > 1) setTimeout(() => request.socket.resetAndDestroy(), 300);
  });
  assert.is((await post(server.url, { ...options, timeoutMs: 2000 })).status, 200);
  const started = performance.now();
  const error = await failure(post(server.url, { ...options, timeoutMs: 600 }));
  const took = performance.now() - started;
  assert.is(error.failure, 'timeout');
  assert.ok(took < 900, `took ${took} ms`);
  assert.is(server.bodies.length, 3);
  await server.close();
});

test('answers many failures without leaking listeners on a long-lived signal', async () => {
  const server = await serverWith((_request, response) => response.writeHead(503).end());
  const controller = new AbortController();
  for (let i = 0; i < 50; i++) {
    await post(server.url, { ...options, timeoutMs: 2000, signal: controller.signal });
  }
  assert.is(EventEmitter.getEventListeners(controller.signal, 'abort').length, 0);
  await server.close();
});

test.run();
