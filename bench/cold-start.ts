// Cold start: from spawn until the first 2xx answer to GET /health/readiness, for each bundle and
// for a bare node:http server, interleaved trial by trial so that drift hits all alike.
import { fileURLToPath } from 'node:url';
import { freePort, startNode, stop, waitFor2xx } from './processes.ts';
import { spread, type Spread } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The settings each server needs to start, given fresh loopback ports. */
type EnvFor = (port: number) => Promise<Record<string, string>>;

/** What the cold-start figure starts: a script and its environment. */
export interface Starter {
  name: string;
  script: string;
  env: EnvFor;
}

/** The three servers measured, with the environment each needs on loopback. */
export function starters(transportKeys: string): Starter[] {
  return [
    { name: 'bare node:http', script: `${root}bench/bare-http.mjs`, env: async () => ({}) },
    {
      name: 'generate-keys',
      script: `${root}dist/generate-keys.mjs`,
      env: async () => ({
        // Nothing listens there: a cold start publishes nothing.
        K_SINK: `http://127.0.0.1:${await freePort()}/`,
        TRIKEY_TRANSPORT_KEYS: transportKeys,
        TRIKEY_AUTH: 'off',
      }),
    },
    {
      name: 'dispatch-email',
      script: `${root}dist/dispatch-email.mjs`,
      env: async () => ({
        TRIKEY_SES_FROM: 'Trikey <trikey@example.com>',
        TRIKEY_TRANSPORT_KEYS: transportKeys,
        TRIKEY_SES_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        TRIKEY_SES_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }),
    },
  ];
}

/** Milliseconds from spawn to the first 2xx answer, once. */
export async function coldStartOnce(starter: Starter): Promise<number> {
  const port = await freePort();
  const env = { ...(await starter.env(port)), PORT: String(port) };
  const began = performance.now();
  const child = startNode(starter.script, env);
  try {
    await waitFor2xx(`http://127.0.0.1:${port}/health/readiness`, child, { everyMs: 1 });
    return performance.now() - began;
  } finally {
    await stop(child, 'SIGKILL');
  }
}

/** `trials` cold starts of each starter, interleaved. */
export async function coldStarts(list: Starter[], trials: number): Promise<Map<string, Spread>> {
  const times = new Map(list.map((starter) => [starter.name, [] as number[]]));
  for (let trial = 0; trial < trials; trial++) {
    for (const starter of list) times.get(starter.name)!.push(await coldStartOnce(starter));
  }
  return new Map([...times].map(([name, values]) => [name, spread(values)]));
}
