import type { BuildOptions, Metafile } from 'esbuild';

export const bundles: Record<string, string>;
export function bundleOptions(name: string, entry: string, outdir: string): BuildOptions & {
  metafile: true;
};
export function loadedAtStart(outputs: Metafile['outputs'], entryFile: string): Set<string>;
