// Bundles each function, the broker bridge and the trikey command into one ESM file apiece
// under dist/, and reports each bundle's size raw and gzipped.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
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
const entryPoints = only
  ? Object.fromEntries(Object.entries(bundles).filter(([name]) => only.includes(name)))
  : bundles;

// esbuild has already printed what went wrong; exit without a second, longer stack trace.
const result = await build({
  entryPoints,
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
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
}).catch(() => process.exit(1));

const quiet = process.argv.includes('--quiet');
for (const [output, meta] of Object.entries(result.metafile.outputs)) {
  if (!output.endsWith('.mjs') || quiet) continue;
  const gzipped = gzipSync(readFileSync(output)).length;
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(
    `${output.padEnd(28)} ${kb(meta.bytes).padStart(9)} raw ${kb(gzipped).padStart(9)} gzip`,
  );
}
