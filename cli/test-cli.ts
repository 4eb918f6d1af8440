// Test support: the `trikey` command as users run it, from its bundle.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** What one run of the command printed, and how it ended. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Builds dist/trikey.mjs alone, for tests that run the command. */
export function buildTrikeyCli(): void {
  execFileSync(process.execPath, ['esbuild.config.mjs', '--quiet'], {
    cwd: repoRoot,
    env: { ...process.env, TRIKEY_BUILD_ONLY: 'trikey' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Runs `trikey ARGS` from the repository's root with `input` on stdin, for 5 s at most. */
export function trikey(args: string[], input = ''): Run {
  const result = spawnSync(process.execPath, ['dist/trikey.mjs', ...args], {
    cwd: repoRoot,
    input,
    encoding: 'utf8',
    timeout: 5000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
