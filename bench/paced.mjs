// The latency load: requests at an even, fixed rate, whatever the answers do (an open loop), in
// a process of its own. autocannon's rate limit lets each connection send its quota for the
// second at once and then wait for the next second, so "half the rate" became a burst at full
// speed followed by silence, and its latency was the saturated latency. Here request i is due at
// start + i / rate, and its latency counts from that moment, so a request that waits for a free
// connection is charged for the wait (no coordinated omission). Takes one JSON argument (url,
// body, connections, overallRate, durationS) and prints one JSON line, as bench/load.mjs does.
import http from 'node:http';

const spec = JSON.parse(process.argv[2]);
const url = new URL(spec.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
const total = Math.round(spec.overallRate * Math.min(spec.durationS, 30));
const intervalMs = 1000 / spec.overallRate;
const headers = {
  'content-type': 'application/json',
  'content-length': String(Buffer.byteLength(spec.body)),
};

const latencies = [];
const outcome = { ok: 0, non2xx: 0, errors: 0, timeouts: 0 };

function send(dueAt) {
  return new Promise((resolve) => {
    const request = http.request(url, { method: 'POST', agent, headers, timeout: 10_000 });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => {
        const ok = response.statusCode >= 200 && response.statusCode < 300;
        outcome[ok ? 'ok' : 'non2xx'] += 1;
        if (ok) latencies.push(performance.now() - dueAt);
        resolve();
      });
    });
    let timedOut = false;
    request.on('timeout', () => {
      timedOut = true;
      request.destroy();
    });
    request.on('error', () => {
      outcome[timedOut ? 'timeouts' : 'errors'] += 1;
      resolve();
    });
    request.end(spec.body);
  });
}

const startedAt = Date.now();
const cpuAtStart = process.cpuUsage();
const start = performance.now();
const inFlight = [];
let sent = 0;
while (sent < total) {
  const now = performance.now();
  while (sent < total && start + sent * intervalMs <= now) {
    inFlight.push(send(start + sent * intervalMs));
    sent += 1;
  }
  const next = start + sent * intervalMs - performance.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, next)));
}
const sendingEnded = performance.now();
await Promise.all(inFlight);
agent.destroy();

const used = process.cpuUsage(cpuAtStart);
latencies.sort((a, b) => a - b);
const percentile = (p) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
const seconds = (sendingEnded - start) / 1000;
const line = {
  startedAt,
  finishedAt: Date.now(),
  seconds,
  ...outcome,
  okPerSecond: outcome.ok / seconds,
  latencyMs: {
    p50: Math.round(percentile(0.5) * 10) / 10,
    p99: Math.round(percentile(0.99) * 10) / 10,
    max: Math.round((latencies.at(-1) ?? NaN) * 10) / 10,
  },
  cpuMs: (used.user + used.system) / 1000,
};
process.stdout.write(JSON.stringify(line) + '\n');
