// Preloaded with NODE_OPTIONS=--import into the bundles scripts/stack.mjs starts, because Node 20
// refuses --cpu-prof in NODE_OPTIONS: starts the same V8 sampling profiler through the inspector
// and writes a .cpuprofile named after the pid into BENCH_CPU_PROF_DIR when the process exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir && process.argv[1]?.includes('/dist/')) {
  const session = new Session();
  session.connect();
  // The in-process session answers synchronously, so this also works from the 'exit' event.
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
