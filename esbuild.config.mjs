// Bundles each function, the broker bridge and the trikey command into one ESM file apiece
// under dist/, with code loaded on demand in dist/chunks/NAME/, and reports each bundle's size
// raw and gzipped.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const bundles = {
  'generate-keys': 'functions/generate-keys/server.ts',
  'dispatch-email': 'functions/dispatch-email/server.ts',
  'broker-bridge': 'eventing/server.ts',
  trikey: 'cli/trikey.ts',
};

// cloudevents is CommonJS and requires Node built-ins at run time: an ESM bundle needs a real
// `require` to serve them.
const banner = [
  "import { createRequire as __trikeyCreateRequire } from 'node:module';",
  'const require = __trikeyCreateRequire(import.meta.url);',
].join('\n');

const only = process.env.TRIKEY_BUILD_ONLY?.split(',');
const chosen = Object.entries(bundles).filter(([name]) => !only || only.includes(name));
const quiet = process.argv.includes('--quiet');
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

// One build per bundle, so that each is whole by itself; splitting then moves only what is
// loaded on demand (age-encryption) out of the entry file, into chunks of that bundle alone.
for (const [name, entry] of chosen) {
  // Chunk names carry content hashes: the last build's would otherwise stay beside the new ones.
  rmSync(`dist/chunks/${name}`, { recursive: true, force: true });
  const result = await build({
    entryPoints: { [name]: entry },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: `chunks/${name}/[name]-[hash]`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    legalComments: 'linked',
    mainFields: ['module', 'main'],
    banner: { js: banner },
    metafile: true,
    logLevel: 'warning',
    // esbuild has already printed what went wrong; exit without a second, longer stack trace.
  }).catch(() => process.exit(1));
  if (quiet) continue;

  // A bundle is its entry file and the chunks it imports statically; the rest loads on demand.
  const { outputs } = result.metafile;
  const main = `dist/${name}.mjs`;
  const loaded = new Set([main]);
  for (const file of loaded) {
    for (const { path, kind } of outputs[file].imports) {
      if (kind === 'import-statement' && outputs[path]) loaded.add(path);
    }
  }
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
