// A fault proxy in front of the SES emulator: it answers some SendEmail calls with the errors
// real SES gives (429 throttling, 500, a permanent MessageRejected for chosen addresses, or
// silence) and forwards the rest. Test support only.
import { createServer, type Server } from 'node:http';

/** What the proxy does to sends. */
export interface FaultPlan {
  /** Share of sends answered 429 or 500, from 0 to 1. */
  failureRate?: number;
  /** Addresses whose every send is refused for good with MessageRejected. */
  reject?: string[];
  /** Addresses whose every send is throttled (429), so that their shares run out of retries. */
  throttle?: string[];
  /** Sends held without an answer, to test timeouts. */
  hang?: boolean;
  /** Seed of the failure choice, so a run can be repeated. */
  seed?: number;
}

/** A running proxy and what it saw. */
export interface FaultProxy {
  url: string;
  counts: { forwarded: number; throttled: number; failed: number; rejected: number };
  plan: FaultPlan;
  close(): Promise<void>;
}

const sendPath = '/v2/email/outbound-emails';

// mulberry32: a tiny seeded generator, so a failing run can be replayed with the same faults.
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts a proxy on an ephemeral loopback port in front of `target`. */
export async function startFaultProxy(target: string, plan: FaultPlan): Promise<FaultProxy> {
  const counts = { forwarded: 0, throttled: 0, failed: 0, rejected: 0 };
  const random = seeded(plan.seed ?? 1);
  const error = (status: number, type: string, message: string) => ({ status, type, message });

  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);

    let fault: ReturnType<typeof error> | undefined;
    if (request.method === 'POST' && request.url === sendPath) {
      if (plan.hang) return;
      const mailboxes: string[] = JSON.parse(body.toString()).Destination?.ToAddresses ?? [];
      const to = mailboxes.map((mailbox) => /<([^<>]+)>$/.exec(mailbox)?.[1] ?? mailbox);
      if (to.some((address) => plan.reject?.includes(address))) {
        counts.rejected++;
        fault = error(400, 'MessageRejected', 'Email address is on the suppression list.');
      } else if (to.some((address) => plan.throttle?.includes(address))) {
        counts.throttled++;
        fault = error(429, 'TooManyRequestsException', 'Maximum sending rate exceeded.');
      } else if (random() < (plan.failureRate ?? 0)) {
        const throttle = random() < 0.5;
        if (throttle) counts.throttled++;
        else counts.failed++;
        fault = throttle
          ? error(429, 'TooManyRequestsException', 'Maximum sending rate exceeded.')
          : error(500, 'InternalFailure', 'The service failed.');
      }
    }
    if (fault) {
      response.writeHead(fault.status, {
        'content-type': 'application/json',
        'x-amzn-errortype': fault.type,
      });
      response.end(JSON.stringify({ message: fault.message }));
      return;
    }

    counts.forwarded += request.url === sendPath ? 1 : 0;
    const headers = { ...request.headers } as Record<string, string>;
    delete headers.host;
    const answer = await fetch(target + request.url, {
      method: request.method,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? undefined : body,
    });
    const answerHeaders = Object.fromEntries(answer.headers);
    // fetch has already decoded and measured the body.
    for (const name of ['content-encoding', 'content-length', 'transfer-encoding']) {
      delete answerHeaders[name];
    }
    response.writeHead(answer.status, answerHeaders);
    response.end(Buffer.from(await answer.arrayBuffer()));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    plan,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
