// CPU profiles for the targets the last `npm run bench` missed, under the same load: reads
// bench/results.json, profiles the bundles with `node --cpu-prof` in a temporary folder, and
// writes the top self-time entries under "Where the time goes" in bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestStack } from '../test/local-services.ts';
import { starters } from './cold-start.ts';
import { sourceMaps, topSelfTime, type HotSpot } from './profile-summary.ts';
import { childPid, freePort, runLoad, stop, waitFor2xx } from './processes.ts';
import type { Results } from './report.ts';
import { ceremonyBody, emailTally, settings, type EmailTally } from './throughput.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const transportKeys = `bench:${Buffer.alloc(32, 7).toString('base64')}`;
const say = (text: string) => process.stdout.write(`profile: ${text}\n`);
const results = JSON.parse(readFileSync(join(here, 'results.json'), 'utf8')) as Results;
const missed = [...results.rows, ...results.singles]
  .filter((r) => r.met === false)
  .map((r) => r.measure);
const { maps, inputs } = await sourceMaps();
const sections: string[] = [];

// Folders of profiles, removed once the summary is written.
const folders: string[] = [];
const profileFolder = () => {
  const dir = mkdtempSync(join(tmpdir(), 'trikey-prof-'));
  folders.push(dir);
  return dir;
};

const profilesOf = (dir: string, pid: number) =>
  readdirSync(dir)
    .filter((file) => file.includes(`.${pid}.`) && file.endsWith('.cpuprofile'))
    .map((file) => join(dir, file));

function table(title: string, summary: ReturnType<typeof topSelfTime>): string {
  const lines = summary.spots.map(
    (s: HotSpot) => `| ${s.percent.toFixed(1)}% | \`${s.fn}\` | ${s.where || '–'} | ${s.pkg} |`,
  );
  return [
    `**${title}** (${(summary.total / 1e6).toFixed(1)} s sampled, ${summary.idlePercent.toFixed(1)}% idle)`,
    '',
    '| self | function | source | package |',
    '| --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
}

/**
 * Runs `drive` against a stack whose bundles write CPU profiles into a new folder. The stack
 * passes no Node flags and Node 20 refuses --cpu-prof in NODE_OPTIONS, so bench/cpu-profile.mjs
 * starts the same sampling profiler from a preload.
 */
async function profiledStack(drive: (urls: any, tally: EmailTally) => Promise<void>) {
  const dir = profileFolder();
  const brokerName = `bench-prof-${process.pid}-${sections.length}`;
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: `--import=${new URL('cpu-profile.mjs', import.meta.url).href}`,
    BENCH_CPU_PROF_DIR: dir,
  };
  delete baseEnv.TRIKEY_API_TOKENS;
  delete baseEnv.TRIKEY_API_TOKENS_FILE;
  let tally: EmailTally | undefined;
  const onLine = (service: string, line: string) => tally?.line(service, line);
  const stack = await startTestStack({ brokerName, transportKeys, baseEnv, onLine });
  tally = emailTally(stack.urls.ses);
  const pids = {
    'generate-keys': childPid('dist/generate-keys.mjs'),
    'broker-bridge': childPid('dist/broker-bridge.mjs'),
    'dispatch-email': childPid('dist/dispatch-email.mjs'),
  };
  try {
    await drive(stack.urls, tally);
  } finally {
    await stack.remove();
  }
  return (name: keyof typeof pids) => profilesOf(dir, pids[name]);
}

const load = (urls: any) => ({
  url: `${urls.generateKeys}/generate-keys`,
  body: ceremonyBody,
  connections: settings.connections,
});

if (missed.some((m) => m.startsWith('generate-keys'))) {
  say('generate-keys at saturation');
  const files = await profiledStack(async (urls) => {
    await runLoad({ ...load(urls), durationS: settings.trialSeconds });
  });
  sections.push(
    table(
      `generate-keys, ${settings.trialSeconds} s at saturation`,
      topSelfTime(files('generate-keys'), maps),
    ),
  );
}

if (missed.some((m) => m.startsWith('end to end'))) {
  say(`end to end, ${settings.endToEndCeremonies} ceremonies`);
  const files = await profiledStack(async (urls, tally) => {
    const result = await runLoad({ ...load(urls), amount: settings.endToEndCeremonies });
    const deadline = Date.now() + 60_000;
    while (tally.emailed < 3 * result.ok && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  for (const name of ['generate-keys', 'broker-bridge', 'dispatch-email'] as const) {
    const title = `${name}, end to end (${settings.endToEndCeremonies} ceremonies)`;
    sections.push(table(title, topSelfTime(files(name), maps)));
  }
}

for (const starter of starters(transportKeys).slice(1)) {
  if (!missed.includes(`cold start, ${starter.name}`)) continue;
  say(`cold start of ${starter.name}, 10 profiled starts`);
  const dir = profileFolder();
  for (let i = 0; i < 10; i++) {
    const port = await freePort();
    const env = {
      ...process.env,
      ...(await starter.env(port)),
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const flags = ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${dir}`];
    const child = spawn(process.execPath, [...flags, starter.script], { env, stdio: 'ignore' });
    await waitFor2xx(`http://127.0.0.1:${port}/health/readiness`, child, { everyMs: 1 });
    await stop(child);
  }
  const files = readdirSync(dir).map((file) => join(dir, file));
  sections.push(
    table(`${starter.name}, 10 cold starts until ready and stopped`, topSelfTime(files, maps)),
  );
}

for (const name of ['generate-keys', 'dispatch-email']) {
  if (!missed.includes(`bundle ${name}, raw (gzip)`)) continue;
  const largest = Object.entries(inputs[name]!)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([input, bytes]) => `| ${(bytes / 1024).toFixed(1)} KiB | ${input} |`);
  sections.push(
    [
      `**${name} bundle: largest inputs loaded at start** (a size, so no CPU profile)`,
      '',
      '| bytes in bundle | input |',
      '| --- | --- |',
      ...largest,
    ].join('\n'),
  );
}

const heading = '## Where the time goes';
const report = readFileSync(join(here, 'RESULTS.md'), 'utf8');
const before = report.slice(0, report.indexOf(heading));
const intro = `Profiled by \`bench/profile.ts\` on ${new Date().toISOString()}, for the targets missed above,
under the same load as the run: \`node --cpu-prof\` on the bundles, self time per function,
minified names traced to their sources through source maps of an identical build. Shares are
of all samples of the process, idle included.`;
writeFileSync(
  join(here, 'RESULTS.md'),
  `${before}${heading}\n\n${intro}\n\n${sections.join('\n\n')}\n`,
);
for (const dir of folders) rmSync(dir, { recursive: true, force: true });
say('written under "Where the time goes" in bench/RESULTS.md');
