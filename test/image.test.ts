// The container image, as far as it can be checked without a Docker engine: the Dockerfile's
// stages and user, and an /app laid out outside the repository by the runtime stage's own COPY
// lines from dist/, where each function must start with no node_modules to fall back on.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helm.ts';
import { freePort } from './local-services.ts';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

const transportKeys = `image:${Buffer.alloc(32, 9).toString('base64')}`;

/** Reads a Dockerfile into stages of instructions, joining continued lines. */
function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = rest;
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(instruction);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The files of the repository's dist/ that a COPY source such as /src/dist/*.mjs names. */
async function matchesInDist(source: string): Promise<string[]> {
  const pattern = source.replace(/^\/src\//, '');
  assert.ok(pattern.startsWith('dist/'), `${source} comes from the build's dist/`);
  if (!pattern.includes('*')) return [pattern];
  const glob = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')}$`,
  );
  const folder = pattern.slice(0, pattern.lastIndexOf('/'));
  return (await readdir(join(repoRoot, folder)))
    .filter((file) => glob.test(file))
    .map((file) => `${folder}/${file}`);
}

/** Every file under a path of the repository, itself if it is a file. */
async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(join(repoRoot, path), {
    recursive: true,
    withFileTypes: true,
  }).catch(() => undefined);
  if (!entries) return [path];
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(repoRoot.length + 1));
}

/** The runtime stage's COPY lines from the build stage, as sources and a target under /app. */
function copiesFromBuild(stage: Stage): { sources: string[]; target: string }[] {
  return stage.instructions
    .filter((step) => step.keyword === 'COPY' && step.args.startsWith('--from=build '))
    .map((step) => {
      const [, ...paths] = step.args.split(/\s+/);
      const target = paths.pop()!;
      return { sources: paths, target };
    });
}

/** Lays out in `folder` what those COPY lines put in /app, with Docker's rules for folders. */
async function assembleApp(stage: Stage, folder: string): Promise<void> {
  for (const { sources, target } of copiesFromBuild(stage)) {
    assert.match(target, /^\/app\//);
    const destination = join(folder, target.slice('/app/'.length));
    for (const source of sources) {
      for (const path of await matchesInDist(source)) {
        const from = join(repoRoot, path);
        const isFolder = (await stat(from)).isDirectory();
        // A folder's contents land in the target; a file lands inside a target ending in /.
        const to = isFolder ? destination : join(destination, basename(path));
        await cp(from, to, { recursive: true });
      }
    }
  }
}

async function waitForStatus(url: string, child: ChildProcess, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bundle exited with ${child.exitCode}`);
    const response = await fetch(url).catch(() => undefined);
    if (response) return response.status;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a function from an /app laid out by the Dockerfile and returns its readiness status. */
async function readinessInImageLayout(bundle: string, env: Record<string, string>) {
  const folder = await mkdtemp(join(tmpdir(), 'trikey-image-'));
  try {
    await assembleApp(dockerfile.stages.at(-1)!, folder);
    const port = await freePort();
    // No NODE_PATH and no node_modules above the folder: only what the image holds can load.
    const child = spawn(process.execPath, [join(folder, bundle)], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      return await waitForStatus(`http://127.0.0.1:${port}/health/readiness`, child);
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${stderr.slice(0, 2000)}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

let dockerfile: ReturnType<typeof parseDockerfile>;

test.before(async () => {
  dockerfile = parseDockerfile(await readFile(join(repoRoot, 'Dockerfile'), 'utf8'));
});

test('every stage starts from a Node.js 20 slim image pinned to a release', () => {
  const nodeImage = dockerfile.globalArgs.find((arg) => arg.args.startsWith('NODE_IMAGE='));
  assert.ok(nodeImage, 'the base image is one ARG');
  assert.match(nodeImage.args, /^NODE_IMAGE=node:20\.\d+\.\d+-[a-z]+-slim$/);
  for (const stage of dockerfile.stages) {
    assert.ok(
      stage.image === '${NODE_IMAGE}' || /^emulator-\$\{SES_EMULATOR\}$/.test(stage.image),
      `stage ${stage.name} starts from ${stage.image}`,
    );
  }
});

test('the build stage installs from the lockfile and bundles', () => {
  const build = dockerfile.stages.find((stage) => stage.name === 'build');
  assert.ok(build, 'a stage named build');
  const runs = build.instructions.filter((step) => step.keyword === 'RUN').map((step) => step.args);
  assert.ok(
    runs.some((run) => /^npm ci\b/.test(run)),
    'npm ci',
  );
  assert.ok(runs.includes('npm run build'), 'npm run build');
});

test('the runtime stage holds only bundles and runs them as the non-root node user', async () => {
  const runtime = dockerfile.stages.at(-1)!;
  assert.is(runtime.name, 'runtime', 'the runtime is the last stage, the default target');
  const steps = runtime.instructions;
  const user = steps.filter((step) => step.keyword === 'USER').at(-1);
  assert.is(user?.args, '1000');
  assert.not.ok(
    steps.some((step) => step.keyword === 'RUN'),
    'nothing runs in the runtime stage',
  );
  for (const step of steps.filter((step) => ['CMD', 'ENTRYPOINT'].includes(step.keyword))) {
    assert.not.match(step.args, /npm|npx/, `${step.keyword} starts node directly`);
    assert.match(step.args, /"node", "\/app\/[a-z-]+\.mjs"/);
  }

  const copies = copiesFromBuild(runtime);
  assert.ok(copies.length > 0, 'the bundles come from the build stage');
  for (const { sources } of copies) {
    for (const source of sources) {
      const matched = await matchesInDist(source);
      assert.ok(matched.length > 0, `${source} matches files after npm run build`);
      for (const path of matched) {
        for (const file of await filesUnder(path)) assert.match(file, /\.mjs$|\.LEGAL\.txt$/);
      }
    }
  }
});

test('the SES emulator enters the image only when built with SES_EMULATOR=true', () => {
  assert.ok(dockerfile.globalArgs.some((arg) => arg.args === 'SES_EMULATOR=false'));
  const withEmulator = dockerfile.stages.find((stage) => stage.name === 'emulator-true');
  const without = dockerfile.stages.find((stage) => stage.name === 'emulator-false');
  assert.ok(withEmulator && without);
  assert.match(withEmulator.instructions.map((step) => step.args).join('\n'), /aws-ses-v2-local/);
  assert.not.match(without.instructions.map((step) => step.args).join('\n'), /npm/);
});

test('.dockerignore keeps installed modules, old bundles and the git history out', async () => {
  const ignored = (await readFile(join(repoRoot, '.dockerignore'), 'utf8')).split('\n');
  for (const entry of ['node_modules', 'dist', '.git', '.cache']) {
    assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
  }
});

test('generate-keys starts from the files the image holds, and is ready', async () => {
  const status = await readinessInImageLayout('generate-keys.mjs', {
    TRIKEY_TRANSPORT_KEYS: transportKeys,
    TRIKEY_API_TOKENS: 'image-test-token-0123456789abcdefghij',
    // Nothing listens there; readiness does not publish.
    K_SINK: 'http://127.0.0.1:9/',
  });
  assert.is(status, 204);
});

test('dispatch-email starts from the files the image holds, and is ready', async () => {
  const status = await readinessInImageLayout('dispatch-email.mjs', {
    TRIKEY_TRANSPORT_KEYS: transportKeys,
    TRIKEY_SES_FROM: 'Trikey <keys@example.com>',
    TRIKEY_SES_ENDPOINT: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'image-test',
    AWS_SECRET_ACCESS_KEY: 'image-test',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  assert.is(status, 204);
});

test.run();
