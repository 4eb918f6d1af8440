// Bundle sizes as esbuild.config.mjs counts them: the entry file and the chunks it imports
// statically; chunks reached only by import() load on demand and are listed apart.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One bundle's size in bytes. */
export interface BundleSize {
  name: string;
  raw: number;
  gzip: number;
  files: string[];
  lazy: { file: string; raw: number }[];
}

// `import"./x.mjs"` and `from"./x.mjs"` are static; `import("./x.mjs")` is not matched.
const staticImport = /(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+\.mjs)["']/g;

/** Sizes of dist/NAME.mjs and its chunks under dist/chunks/NAME/. */
export function bundleSize(dist: string, name: string): BundleSize {
  const entry = join(dist, `${name}.mjs`);
  const loaded = new Set([entry]);
  for (const file of loaded) {
    for (const match of readFileSync(file, 'utf8').matchAll(staticImport)) {
      loaded.add(join(dirname(file), match[1]!));
    }
  }
  const chunkDir = join(dist, 'chunks', name);
  const listed = existsSync(chunkDir) ? readdirSync(chunkDir, { withFileTypes: true }) : [];
  const chunks = listed
    .filter((item) => item.isFile() && item.name.endsWith('.mjs'))
    .map((item) => join(chunkDir, item.name));
  const read = (file: string) => readFileSync(file);
  return {
    name,
    raw: [...loaded].reduce((sum, file) => sum + read(file).length, 0),
    gzip: [...loaded].reduce((sum, file) => sum + gzipSync(read(file)).length, 0),
    files: [...loaded].map((file) => relative(dist, file)),
    lazy: chunks
      .filter((file) => !loaded.has(file))
      .map((file) => ({ file: relative(dist, file), raw: read(file).length })),
  };
}
