// Throughput and latency: the floor on its own, then generate-keys and the whole ceremony path
// through the stack that `npm start` runs, with the real RabbitMQ and the SES emulator.
import { fileURLToPath } from 'node:url';
import {
  anyPid,
  childPid,
  cpuMs,
  freePort,
  runLoad,
  sampleRss,
  startNode,
  stop,
  waitFor2xx,
} from './processes.ts';
import { rssMiB, type LoadResult } from './processes.ts';
import { storedEmails } from '../test/local-services.ts';
import { spread } from './stats.ts';

const floorScript = fileURLToPath(new URL('floor.mjs', import.meta.url));

/** The run's knobs, written into the results beside the figures. */
export const settings = {
  connections: 20,
  trials: 3,
  trialSeconds: 5,
  warmUpSeconds: 1,
  endToEndCeremonies: 300,
  coldStartTrials: 20,
};

/** A ceremony request with three custodians. */
export const ceremonyBody = JSON.stringify({
  admin: 'Ana Ruiz <ana@example.com>',
  representatives: ['Luis Gómez <luis@example.com>', 'Marta Díaz <marta@example.com>'],
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function checkClean(result: LoadResult, what: string): LoadResult {
  if (result.non2xx || result.errors || result.timeouts) {
    process.stderr.write(
      `bench: ${what}: ${result.non2xx} non-2xx, ${result.errors} errors, ` +
        `${result.timeouts} timeouts (only 2xx answers are counted)\n`,
    );
  }
  return result;
}

/** The floor's saturated throughput, and its RSS idle and under load. */
export async function measureFloor() {
  const port = await freePort();
  const child = startNode(floorScript, { PORT: String(port) });
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor2xx(`${url}health/readiness`, child);
    await pause(500);
    const idle = rssMiB(child.pid!);
    const load = { url, body: ceremonyBody, connections: settings.connections };
    await runLoad({ ...load, durationS: settings.warmUpSeconds });
    const sampler = sampleRss({ floor: child.pid! });
    const rates: number[] = [];
    for (let i = 0; i < settings.trials; i++) {
      const result = await runLoad({ ...load, durationS: settings.trialSeconds });
      rates.push(checkClean(result, 'floor').okPerSecond);
    }
    return { rps: spread(rates), rss: { idle, loaded: sampler.stop().floor! } };
  } finally {
    await stop(child);
  }
}

/**
 * The emails of a run. dispatch-email logs `share emailed` once SES (here the emulator) has
 * answered with a message id, so the bench counts those lines as they arrive, which costs
 * nothing; reading the emulator's store instead serialises every email it holds (about 4 KiB
 * each) at every poll, which took the very CPU being measured. The store is read once a run,
 * to check that it holds every email counted.
 */
export function emailTally(sesUrl: string) {
  let emailed = 0;
  return {
    /** Feeds one line a process printed. */
    line(service: string, line: string): void {
      if (service === 'dispatch-email' && line.includes('"share emailed"')) emailed += 1;
    },
    /** Shares emailed since the last `clear()`. */
    get emailed(): number {
      return emailed;
    },
    /** How many emails the emulator holds. */
    async stored(): Promise<number> {
      return (await storedEmails(sesUrl)).length;
    },
    /** Empties the emulator and the count. */
    async clear(): Promise<void> {
      await fetch(`${sesUrl}/clear-store`, { method: 'POST' });
      emailed = 0;
    },
  };
}

/** What the bench reads emails through: an emailTally. */
export type EmailTally = ReturnType<typeof emailTally>;

/** Waits until `expected` shares were emailed; resolves with the time seen, or NaN. */
async function waitForEmails(
  tally: EmailTally,
  expected: () => number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (tally.emailed >= expected()) return Date.now();
    await pause(2);
  }
  return NaN;
}

/**
 * Lets the pipeline deliver what a run left queued, until no share has been emailed for half a
 * second (a timed run also leaves requests in flight that autocannon does not count), checks
 * that the emulator holds every email counted, then empties both.
 */
async function drain(tally: EmailTally, ceremonies: number) {
  const done = await waitForEmails(tally, () => 3 * ceremonies, 90_000);
  if (Number.isNaN(done)) process.stderr.write('bench: the pipeline did not drain in 90 s\n');
  let last = -1;
  while (tally.emailed !== last) {
    last = tally.emailed;
    await pause(500);
  }
  const stored = await tally.stored();
  if (stored !== tally.emailed) {
    process.stderr.write(
      `bench: ${tally.emailed} shares emailed, but the emulator holds ${stored}\n`,
    );
  }
  await tally.clear();
}

/** A running stack's URLs, as scripts/stack.mjs returns them. */
export interface StackUrls {
  generateKeys: string;
  ses: string;
}

/**
 * generate-keys at saturation, then at half that rate, then whole ceremonies end to end, with
 * the RSS of both functions idle and at their peak.
 */
export async function measureStack(urls: StackUrls, tally: EmailTally) {
  const pids = {
    generateKeys: childPid('dist/generate-keys.mjs'),
    dispatchEmail: childPid('dist/dispatch-email.mjs'),
  };
  const load = {
    url: `${urls.generateKeys}/generate-keys`,
    body: ceremonyBody,
    connections: settings.connections,
  };

  await pause(2000);
  const idle = {
    generateKeys: rssMiB(pids.generateKeys),
    dispatchEmail: rssMiB(pids.dispatchEmail),
  };
  await tally.clear();
  const warmUp = await runLoad({ ...load, durationS: settings.warmUpSeconds });
  await drain(tally, warmUp.ok);

  const sampler = sampleRss(pids);
  const saturated: LoadResult[] = [];
  for (let i = 0; i < settings.trials; i++) {
    const result = await runLoad({ ...load, durationS: settings.trialSeconds });
    saturated.push(checkClean(result, 'generate-keys at saturation'));
    await drain(tally, result.ok);
  }
  const peak = sampler.stop();
  const rps = spread(saturated.map((result) => result.okPerSecond));

  const halfRate = Math.max(1, Math.round(rps.median / 2));
  const paced: LoadResult[] = [];
  for (let i = 0; i < settings.trials; i++) {
    const result = await runLoad({
      ...load,
      durationS: settings.trialSeconds,
      overallRate: halfRate,
    });
    paced.push(checkClean(result, 'generate-keys at half rate'));
    await drain(tally, result.ok);
  }

  const meter = cpuMeter();
  const endToEnd: number[] = [];
  for (let i = 0; i < settings.trials; i++) {
    endToEnd.push(await ceremoniesPerSecond(load, tally, meter));
  }

  return {
    generateKeys: {
      rps,
      halfRate,
      p50: spread(paced.map((result) => result.latencyMs.p50)),
      p99: spread(paced.map((result) => result.latencyMs.p99)),
    },
    endToEnd: spread(endToEnd),
    cpuPerCeremony: meter.perCeremony(),
    rss: { idle, peak },
  };
}

/**
 * CPU time of every process a ceremony goes through, summed over the end-to-end runs: the
 * three functions, the SES emulator, RabbitMQ, the load generator and this process, which reads
 * every log line of the stack.
 */
function cpuMeter() {
  const rabbit = anyPid('beam.smp');
  const pids: Record<string, number | undefined> = {
    'generate-keys': childPid('dist/generate-keys.mjs'),
    'broker bridge': childPid('dist/broker-bridge.mjs'),
    'dispatch-email': childPid('dist/dispatch-email.mjs'),
    'SES emulator': childPid('aws-ses-v2-local'),
    'RabbitMQ (beam.smp)': rabbit,
  };
  const totals: Record<string, number> = {};
  let ceremonies = 0;
  const add = (name: string, ms: number) => (totals[name] = (totals[name] ?? 0) + ms);
  return {
    /** Starts counting one run; the returned function ends it with the run's ceremonies. */
    start() {
      const before = Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => [name, pid ? cpuMs(pid) : NaN]),
      );
      const bench = process.cpuUsage();
      return (accepted: number, generatorMs: number) => {
        for (const [name, pid] of Object.entries(pids)) {
          add(name, pid ? cpuMs(pid) - before[name]! : NaN);
        }
        const own = process.cpuUsage(bench);
        add('load generator', generatorMs);
        add('bench (reads the logs)', (own.user + own.system) / 1000);
        ceremonies += accepted;
      };
    },
    /** Milliseconds of CPU per ceremony, by process. */
    perCeremony(): Record<string, number> {
      return Object.fromEntries(
        Object.entries(totals).map(([name, ms]) => [name, ms / ceremonies]),
      );
    },
  };
}

/** N ceremonies sent as fast as the saturation run goes; ceremonies per second to 3N emails. */
async function ceremoniesPerSecond(
  load: { url: string; body: string; connections: number },
  tally: EmailTally,
  meter: ReturnType<typeof cpuMeter>,
): Promise<number> {
  const sent = settings.endToEndCeremonies;
  await tally.clear();
  let ok = sent;
  const stopMeter = meter.start();
  const running = runLoad({ ...load, amount: sent, limitMs: 60_000 }).then((result) => {
    ok = checkClean(result, 'end to end').ok;
    return result;
  });
  const doneAt = await waitForEmails(tally, () => 3 * ok, 90_000);
  const { startedAt, cpuMs: generatorMs } = await running;
  stopMeter(ok, generatorMs);
  if (ok < sent) process.stderr.write(`bench: end to end: only ${ok} of ${sent} accepted\n`);
  await drain(tally, ok);
  return ok / ((doneAt - startedAt) / 1000);
}
