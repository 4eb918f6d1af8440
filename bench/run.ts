// `npm run bench`: measures the floor, generate-keys, whole ceremonies, cold starts, sizes and
// memory in one run, stops everything it started and writes bench/RESULTS.md and results.json.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain ESM script shared with `npm start`, without type declarations.
import { rabbitReachable } from '../scripts/stack.mjs';
import { amqpUrl, startTestStack } from '../test/local-services.ts';
import { coldStarts, starters } from './cold-start.ts';
import { machine, writeResults, type Row, type Single } from './report.ts';
import { bundleSize } from './sizes.ts';
import { emailTally, measureFloor, measureStack, settings, type EmailTally } from './throughput.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const brokerName = `bench-${process.pid}`;
const transportKeys = `bench:${randomBytes(32).toString('base64')}`;
const say = (text: string) => process.stdout.write(`bench: ${text}\n`);
const began = Date.now();

if (!(await rabbitReachable(amqpUrl))) {
  say(`RabbitMQ must answer at ${amqpUrl}`);
  process.exit(1);
}

// Authentication and the rate limit stay out of the way, as in `npm start` on loopback.
const baseEnv = { ...process.env };
for (const name of [
  'TRIKEY_API_TOKENS',
  'TRIKEY_API_TOKENS_FILE',
  'TRIKEY_RATE_LIMIT_PER_MINUTE',
  'TRIKEY_RATE_LIMIT_BURST',
]) {
  delete baseEnv[name];
}

const sizes = ['generate-keys', 'dispatch-email'].map((name) => bundleSize(dist, name));

say('the floor: a bare Hono app');
const floor = await measureFloor();
say(`floor ${floor.rps.median.toFixed(0)} requests/s`);

say(`starting the stack (broker ${brokerName})`);
const recent: string[] = [];
let tally: EmailTally | undefined;
const stack = await startTestStack({
  brokerName,
  transportKeys,
  baseEnv,
  onLine: (service, line) => {
    tally?.line(service, line);
    recent.push(`[${service}] ${line}`);
    if (recent.length > 20) recent.shift();
  },
});
let measured;
try {
  say('generate-keys at saturation, at half rate, then end to end');
  measured = await Promise.race([
    measureStack(stack.urls, (tally = emailTally(stack.urls.ses))),
    stack.exited.then(({ service, code }) => {
      throw new Error(`${service} exited with code ${code}:\n${recent.join('\n')}`);
    }),
  ]);
} finally {
  await stack.remove();
}

say(`cold starts, ${settings.coldStartTrials} trials each`);
const cold = await coldStarts(starters(transportKeys), settings.coldStartTrials);

const percentOfFloor = (value: number) => `${((100 * value) / floor.rps.median).toFixed(1)}%`;
const bare = cold.get('bare node:http')!;
const timesBare = (value: number) => `${(value / bare.median).toFixed(2)}×`;
const gk = measured.generateKeys;
const rows: Row[] = [
  { measure: 'floor: Hono POST /', unit: 'req/s', value: floor.rps, ratio: '100%' },
  {
    measure: 'generate-keys, 3 custodians, saturated',
    unit: 'req/s',
    value: gk.rps,
    ratio: percentOfFloor(gk.rps.median),
    target: '≥ 12% of floor',
    met: gk.rps.median >= 0.12 * floor.rps.median,
  },
  { measure: `generate-keys p50 at ${gk.halfRate} req/s`, unit: 'ms', value: gk.p50 },
  {
    measure: `generate-keys p99 at ${gk.halfRate} req/s`,
    unit: 'ms',
    value: gk.p99,
    target: '≤ 20 ms',
    met: gk.p99.median <= 20,
  },
  {
    measure: 'end to end, POST to 3 emails stored',
    unit: 'ceremonies/s',
    value: measured.endToEnd,
    ratio: percentOfFloor(measured.endToEnd.median),
    target: '≥ 600/s',
    met: measured.endToEnd.median >= 600,
  },
  ...[...cold].map(([name, value]): Row => {
    const bundle = name !== 'bare node:http';
    return {
      measure: `cold start, ${name}`,
      unit: 'ms',
      value,
      ratio: timesBare(value.median),
      ...(bundle ? { target: '≤ 1.5× bare', met: value.median <= 1.5 * bare.median } : {}),
    };
  }),
];

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (value: number) => `${value.toFixed(1)} MiB`;
const sizeTarget: Record<string, number> = { 'generate-keys': 150, 'dispatch-email': 500 };
const { idle, peak } = measured.rss;
const timesFloor = (value: number, reference: number) => `${(value / reference).toFixed(2)}× floor`;
const singles: Single[] = [
  ...sizes.map((b): Single => ({
    measure: `bundle ${b.name}, raw (gzip)`,
    value: `${kib(b.raw)} (${kib(b.gzip)})`,
    target: `≤ ${sizeTarget[b.name]} KiB raw`,
    met: b.raw <= sizeTarget[b.name]! * 1024,
  })),
  {
    measure: 'RSS floor, idle / saturated',
    value: `${mib(floor.rss.idle)} / ${mib(floor.rss.loaded)}`,
  },
  ...(
    [
      ['generate-keys', idle.generateKeys, peak.generateKeys!],
      ['dispatch-email', idle.dispatchEmail, peak.dispatchEmail!],
    ] as const
  ).flatMap(([name, atRest, loaded]): Single[] => [
    {
      measure: `RSS ${name}, idle`,
      value: mib(atRest),
      ratio: timesFloor(atRest, floor.rss.idle),
      target: '≤ 70 MiB',
      met: atRest <= 70,
    },
    {
      measure: `RSS ${name}, saturated (peak)`,
      value: mib(loaded),
      ratio: timesFloor(loaded, floor.rss.loaded),
    },
  ]),
];

const profileNote = `
## Where the time goes

Profiles are not part of \`npm run bench\`; \`node --import tsx bench/profile.ts\` takes them under
the same load and writes its summary here.
`;
writeResults(
  here,
  { machine: machine(), settings, rows, singles, sizes, cpuPerCeremony: measured.cpuPerCeremony },
  profileNote,
);
say(`done in ${((Date.now() - began) / 1000).toFixed(0)} s: bench/RESULTS.md, bench/results.json`);
