// Bundles each function, the broker bridge and the trikey command into one ESM file apiece
// under dist/, with code loaded on demand in dist/chunks/NAME/, and reports each bundle's size
// raw and gzipped.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { bundleOptions, bundles, loadedAtStart } from './build-options.mjs';

const only = process.env.TRIKEY_BUILD_ONLY?.split(',');
const chosen = Object.entries(bundles).filter(([name]) => !only || only.includes(name));
const quiet = process.argv.includes('--quiet');
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

// One build per bundle, so that each is whole by itself.
for (const [name, entry] of chosen) {
  // Chunk names carry content hashes: the last build's would otherwise stay beside the new ones.
  rmSync(`dist/chunks/${name}`, { recursive: true, force: true });
  // esbuild has already printed what went wrong; exit without a second, longer stack trace.
  const result = await build(bundleOptions(name, entry, 'dist')).catch(() => process.exit(1));
  if (quiet) continue;

  // A bundle is its entry file and the chunks it imports statically; the rest loads on demand.
  const { outputs } = result.metafile;
  const main = `dist/${name}.mjs`;
  const loaded = loadedAtStart(outputs, main);
  const files = Object.keys(outputs).filter((file) => file.endsWith('.mjs'));
  const bytes = (list) => list.reduce((sum, file) => sum + outputs[file].bytes, 0);
  const size = bytes([...loaded]);
  const lazy = bytes(files.filter((file) => !loaded.has(file)));
  const gzipped = [...loaded].reduce((sum, file) => sum + gzipSync(readFileSync(file)).length, 0);
  const extra = lazy ? `  (+${kb(lazy)} loaded on demand)` : '';
  console.log(
    `${main.padEnd(24)} ${kb(size).padStart(9)} raw ${kb(gzipped).padStart(9)} gzip${extra}`,
  );
}
