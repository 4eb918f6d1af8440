// Turns the measurements into bench/results.json and bench/RESULTS.md, with each issue-6 target
// beside its figure.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { BundleSize } from './sizes.ts';
import type { Spread } from './stats.ts';

/** A figure of repeated trials, its ratio to the floor, and its target when issue 6 sets one. */
export interface Row {
  measure: string;
  unit: string;
  value: Spread;
  ratio?: string;
  target?: string;
  met?: boolean;
}

/** A figure taken once: a size or a resident memory. */
export interface Single {
  measure: string;
  value: string;
  ratio?: string;
  target?: string;
  met?: boolean;
}

/** Everything the run measured. */
export interface Results {
  machine: { cores: number; cpuModel: string; node: string; date: string };
  settings: Record<string, number>;
  rows: Row[];
  singles: Single[];
  sizes: BundleSize[];
  /** Milliseconds of CPU per ceremony end to end, by process. */
  cpuPerCeremony: Record<string, number>;
}

/** The machine as the run saw it. */
export function machine() {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    date: new Date().toISOString(),
  };
}

const fixed = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const verdict = (met?: boolean) => (met === undefined ? '' : met ? 'met' : '**missed**');

function table(head: string[], lines: string[][]): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [row(head), row(head.map(() => '---')), ...lines.map(row)].join('\n');
}

/** Writes both files; `extra` is Markdown appended as it is (the profile summary). */
export function writeResults(dir: string, results: Results, extra = ''): void {
  writeFileSync(`${dir}/results.json`, JSON.stringify(results, null, 2) + '\n');

  const { machine: m, settings: s } = results;
  const trials = table(
    ['Measure', 'Median', 'Min', 'Max', 'vs floor', 'Target', ''],
    results.rows.map((r) => [
      `${r.measure} (${r.unit})`,
      fixed(r.value.median),
      fixed(r.value.min),
      fixed(r.value.max),
      r.ratio ?? '',
      r.target ?? '',
      verdict(r.met),
    ]),
  );
  const once = table(
    ['Measure', 'Value', 'vs floor', 'Target', ''],
    results.singles.map((r) => [r.measure, r.value, r.ratio ?? '', r.target ?? '', verdict(r.met)]),
  );
  const cpu = Object.entries(results.cpuPerCeremony);
  const cpuTotal = cpu.reduce((sum, [, ms]) => sum + ms, 0);
  const cpuTable = table(
    ['Process', 'CPU per ceremony (ms)', 'share'],
    [
      ...cpu
        .sort((a, b) => b[1] - a[1])
        .map(([name, ms]) => [name, ms.toFixed(2), `${((100 * ms) / cpuTotal).toFixed(0)}%`]),
      ['**all**', `**${cpuTotal.toFixed(2)}**`, '100%'],
    ],
  );
  const ceiling = (1000 * m.cores) / cpuTotal;
  const lazy = results.sizes
    .map(
      (b) =>
        `- ${b.name}: ${b.lazy.map((l) => `${l.file} ${(l.raw / 1024).toFixed(1)} KiB`).join(', ') || 'none'}`,
    )
    .join('\n');

  const text = `# Benchmark results

Written by \`npm run bench\` on ${m.date}: ${m.cores} cores (${m.cpuModel}), Node ${m.node}.
Load from autocannon (throughput) or bench/paced.mjs (latency) in a process of its own,
${s.connections} connections, ${s.trials} trials of ${s.trialSeconds} s after a ${s.warmUpSeconds} s warm-up; every server on 127.0.0.1.
Throughput counts 2xx answers only.

${trials}

${once}

CPU per ceremony through the whole pipeline, summed over the end-to-end runs (utime + stime
from /proc for the servers and RabbitMQ, \`process.cpuUsage()\` for the load generator and the
bench). At ${cpuTotal.toFixed(2)} ms a ceremony, ${m.cores} cores allow at most ${ceiling.toFixed(0)} ceremonies per second
end to end, whatever the scheduling.

${cpuTable}

Lazy chunks, loaded on demand and not counted above:
${lazy}

How each figure is taken:
- Floor: bench/floor.mjs, a Hono app on @hono/node-server that parses the same JSON body and
  answers \`POST /\` with a small JSON object.
- generate-keys: the stack of \`npm start\` (scripts/stack.mjs) with authentication off and a high
  rate limit, publishing to the broker bridge over RabbitMQ with confirms; each request is a
  ceremony of 3 custodians. The rest of the pipeline (bridge, dispatch-email, SES emulator) runs
  and drains after every trial, on the same cores. Latency is taken at half the median
  saturated rate, with requests sent evenly spaced whatever the answers do (bench/paced.mjs,
  20 keep-alive connections), each timed from the moment it was due, so that waiting for a
  connection counts.
- End to end: ${s.endToEndCeremonies} ceremonies sent as fast as ${s.connections} connections go,
  timed from the first request until dispatch-email has logged \`share emailed\` (SES answered
  with a message id) for 3 shares per accepted ceremony; the emulator's \`GET /store\` is then
  read once and must hold exactly that many emails. Polling the store during the run would
  serialise every stored email at each poll, on the cores being measured.
- Cold start: spawn until the first 2xx answer to \`GET /health/readiness\` (polled every 1 ms),
  ${s.coldStartTrials} trials each, interleaved; bench/bare-http.mjs is the reference.
- Sizes: the entry file plus the chunks it imports statically, as esbuild.config.mjs counts them
  (KiB = 1024 bytes, as the build prints); gzip is per file, summed.
- Memory: VmRSS from /proc, idle 2 s after start before any load, and the peak of samples every
  200 ms through the saturation trials and the drains after them.
${extra}`;
  writeFileSync(`${dir}/RESULTS.md`, text);
}
