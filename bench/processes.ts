// Processes the benchmark starts: servers, the load generator, and what /proc says about them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';

export { freePort } from '../test/local-services.ts';

const loadScript = fileURLToPath(new URL('load.mjs', import.meta.url));
const pacedScript = fileURLToPath(new URL('paced.mjs', import.meta.url));

/** One load run, as bench/load.mjs (autocannon) or bench/paced.mjs reports it. */
export interface LoadResult {
  startedAt: number;
  finishedAt: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  okPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** CPU time the load generator itself used, in milliseconds. */
  cpuMs: number;
}

/**
 * What to send: a URL, a JSON body, connections, and a duration or a request count. With an
 * `overallRate`, requests go out evenly paced by bench/paced.mjs, for `durationS`.
 */
export interface LoadSpec {
  url: string;
  body: string;
  connections: number;
  durationS?: number;
  amount?: number;
  overallRate?: number;
  limitMs?: number;
}

/** Runs the load generator in its own process and resolves with its report. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const script = spec.overallRate ? pacedScript : loadScript;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the load generator exited with code ${code}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}

/** One GET; resolves with the status, or rejects when nothing answers. */
export function get(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('timed out')));
    req.once('error', reject);
    req.end();
  });
}

/** Polls `url` every `everyMs` until a 2xx answer; rejects after `timeoutMs` or if `child` dies. */
export async function waitFor2xx(
  url: string,
  child: ChildProcess,
  { everyMs = 2, timeoutMs = 15_000 } = {},
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    const status = await get(url).catch(() => 0);
    if (status >= 200 && status < 300) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`${url}: no 2xx answer within ${timeoutMs} ms`);
}

/** Starts a Node script on loopback with `env` added to a copy of this process's environment. */
export function startNode(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [script], {
    env: { ...process.env, HOST: '127.0.0.1', ...env },
    stdio: 'ignore',
  });
}

/** Stops a child and waits for it to go; SIGKILL after `graceMs`. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

/** Resident memory of a process in MiB (VmRSS), or NaN once it is gone. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib ? Number(kib) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

// The fields of /proc/PID/stat after the command name, which may hold spaces: field 3 of
// proc(5) (the state) comes first, then field 4, the parent's pid.
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time a process has used so far, user and system, in milliseconds; NaN once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = statFields(pid);
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks of 10 ms on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

// The first process whose command line contains `needle`, among this process's children only
// when `childrenOnly`.
function findPid(needle: string, childrenOnly: boolean): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (childrenOnly && Number(statFields(entry)[1]) !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

/** The pid of any process whose command line contains `needle`, or undefined. */
export function anyPid(needle: string): number | undefined {
  return findPid(needle, false);
}

/** The pid of this process's child whose command line contains `needle`. */
export function childPid(needle: string): number {
  const pid = findPid(needle, true);
  if (pid === undefined) throw new Error(`no child process runs ${needle}`);
  return pid;
}

/** Samples the RSS of `pids` every 200 ms until stopped; returns the peak of each in MiB. */
export function sampleRss(pids: Record<string, number>) {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const take = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const now = rssMiB(pid);
      if (now > peak[name]!) peak[name] = now;
    }
  };
  const timer = setInterval(take, 200);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}
