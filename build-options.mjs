// What a Trikey bundle is: its entry and the esbuild options every build of it uses. Shared by
// esbuild.config.mjs and the benchmark's profiler, which rebuilds with source maps.

/** The bundles under dist/ and the entry of each. */
export const bundles = {
  'generate-keys': 'functions/generate-keys/server.ts',
  'dispatch-email': 'functions/dispatch-email/server.ts',
  'broker-bridge': 'eventing/server.ts',
  trikey: 'cli/trikey.ts',
};

// CommonJS dependencies (amqplib, parts of the AWS SDK) require Node built-ins at run time: an
// ESM bundle needs a real `require` to serve them.
const banner = [
  "import { createRequire as __trikeyCreateRequire } from 'node:module';",
  'const require = __trikeyCreateRequire(import.meta.url);',
].join('\n');

/**
 * The options of one bundle's build. Splitting moves only what is loaded on demand
 * (age-encryption, the SES SDK, the OpenAPI builder) out of the entry, into chunks of its own.
 */
export function bundleOptions(name, entry, outdir) {
  return {
    entryPoints: { [name]: entry },
    outdir,
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
  };
}

/** The output files a bundle loads at start: its entry and the chunks it imports statically. */
export function loadedAtStart(outputs, entryFile) {
  const loaded = new Set([entryFile]);
  for (const file of loaded) {
    for (const { path, kind } of outputs[file]?.imports ?? []) {
      if (kind === 'import-statement' && outputs[path]) loaded.add(path);
    }
  }
  return loaded;
}
