// The load generator, in a process of its own so that it never shares an event loop with what
// it measures. Takes one JSON argument (url, body, connections, and either durationS or amount),
// runs autocannon once and prints one JSON line with the outcome. Paced runs use paced.mjs.
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2]);
// The generator's own CPU from the start of the run, so that loading autocannon is not counted.
let cpuAtStart;
const cpuMs = () => {
  const { user, system } = process.cpuUsage(cpuAtStart);
  return (user + system) / 1000;
};
// A hard stop whatever autocannon does: no run outlives its bound.
const limitMs = Math.min(spec.limitMs ?? 60_000, 120_000);

const options = {
  url: spec.url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: spec.body,
  connections: spec.connections,
  timeout: 10,
  ...(spec.amount ? { amount: spec.amount } : { duration: Math.min(spec.durationS, 30) }),
};

const startedAt = Date.now();
cpuAtStart = process.cpuUsage();
const instance = autocannon(options, (error, result) => {
  clearTimeout(guard);
  if (error) {
    process.stderr.write(`load: ${error.message}\n`);
    process.exit(1);
  }
  const seconds = (result.finish - result.start) / 1000;
  const line = {
    startedAt,
    finishedAt: Date.now(),
    seconds,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    okPerSecond: result['2xx'] / seconds,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    cpuMs: cpuMs(),
  };
  process.stdout.write(JSON.stringify(line) + '\n');
});
const guard = setTimeout(() => instance.stop(), limitMs);
