// Reads V8 CPU profiles of the minified bundles and names their hottest functions by source and
// package, through source maps of a build identical to dist/ but for the chunk hashes.
import { build } from 'esbuild';
import { bundleOptions, bundles, loadedAtStart } from '../build-options.mjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const profiled = ['generate-keys', 'dispatch-email', 'broker-bridge'];
const hashes = /-[A-Z0-9]{8}\.mjs/g;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) =>
    item.isDirectory() ? walk(join(dir, item.name)) : [join(dir, item.name)],
  );
}

/**
 * Builds each bundle again with source maps, with the options of build-options.mjs, and pairs every dist/ file with the map of the output
 * whose text is the same once chunk hashes are set aside. Unpaired files stay unmapped.
 */
export async function sourceMaps() {
  const out = mkdtempSync(join(tmpdir(), 'trikey-maps-'));
  const inputs: Record<string, Record<string, number>> = {};
  for (const name of profiled) {
    const entry = bundles[name]!;
    const result = await build({
      ...bundleOptions(name, join(root, entry), out),
      sourcemap: 'external',
      absWorkingDir: root,
    });
    // What the bundle loads at start: the entry and its static imports, as the build counts.
    const { outputs } = result.metafile;
    const loaded = loadedAtStart(outputs, relative(root, join(out, `${name}.mjs`)));
    const counted: Record<string, number> = (inputs[name] = {});
    for (const file of loaded) {
      for (const [input, { bytesInOutput }] of Object.entries(outputs[file]!.inputs)) {
        counted[input] = (counted[input] ?? 0) + bytesInOutput;
      }
    }
  }
  const built = new Map<string, string>();
  for (const file of walk(out).filter((f) => f.endsWith('.mjs'))) {
    built.set(readFileSync(file, 'utf8').replace(hashes, '-HASH.mjs'), file);
  }
  const maps = new Map<string, { map: SourceMap; sources: string }>();
  for (const file of walk(join(root, 'dist')).filter((f) => f.endsWith('.mjs'))) {
    const twin = built.get(readFileSync(file, 'utf8').replace(hashes, '-HASH.mjs'));
    if (!twin) continue;
    const payload = JSON.parse(readFileSync(`${twin}.map`, 'utf8'));
    maps.set(file, { map: new SourceMap(payload), sources: join(twin, '..') });
  }
  // The maps are in memory now; their folder is needed only as a path to name sources by.
  rmSync(out, { recursive: true, force: true });
  return { maps, inputs };
}

/** Where a source path lives: its npm package, or the project folder. */
function owner(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at < 0) return 'trikey';
  const parts = source.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** One line of a summary: a function, where it lives, and its share of the samples. */
export interface HotSpot {
  fn: string;
  where: string;
  pkg: string;
  percent: number;
}

/** The `top` functions by self time in the profiles, as shares of all their samples. */
export function topSelfTime(
  files: string[],
  maps: Awaited<ReturnType<typeof sourceMaps>>['maps'],
  top = 12,
): { total: number; idlePercent: number; spots: HotSpot[] } {
  const self = new Map<string, { spot: Omit<HotSpot, 'percent'>; us: number }>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const names = new Map<number, Omit<HotSpot, 'percent'>>();
    profile.samples.forEach((id, index) => {
      const us = profile.timeDeltas[index] ?? 0;
      total += us;
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(idle)') return void (idle += us);
      let spot = names.get(id);
      if (!spot) names.set(id, (spot = describe(frame, maps)));
      const key = `${spot.fn}|${spot.where}`;
      const entry = self.get(key) ?? { spot, us: 0 };
      entry.us += us;
      self.set(key, entry);
    });
  }
  const spots = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map(({ spot, us }) => ({ ...spot, percent: (100 * us) / total }));
  return { total, idlePercent: (100 * idle) / total, spots };
}

function describe(
  frame: CpuProfile['nodes'][number]['callFrame'],
  maps: Awaited<ReturnType<typeof sourceMaps>>['maps'],
): Omit<HotSpot, 'percent'> {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return { fn: name, where: '', pkg: 'V8 / native' };
  if (!frame.url.startsWith('file://')) return { fn: name, where: frame.url, pkg: 'node' };

  const path = fileURLToPath(frame.url);
  const mapped = maps.get(path);
  const entry = mapped?.map.findEntry(frame.lineNumber, frame.columnNumber) as
    { originalSource?: string; originalLine?: number; name?: string } | undefined;
  if (!mapped || !entry?.originalSource) {
    return { fn: name, where: relative(root, path), pkg: owner(path) };
  }
  const source = relative(root, join(mapped.sources, entry.originalSource));
  const original = entry.name ?? originalName(mapped.map, entry) ?? name;
  return { fn: original, where: `${source}:${(entry.originalLine ?? 0) + 1}`, pkg: owner(source) };
}

// The minified name says nothing; the identifier at the mapped place in the source usually does.
function originalName(map: SourceMap, entry: { originalSource?: string; originalLine?: number }) {
  const payload = map.payload as { sources: string[]; sourcesContent?: string[] };
  const text = payload.sourcesContent?.[payload.sources.indexOf(entry.originalSource!)];
  const line = text?.split('\n')[entry.originalLine ?? 0] ?? '';
  return /(?:function\*?\s+|(?:async\s+)?)([A-Za-z_$][\w$]*)\s*(?:=\s*(?:async\s*)?\(|\()/.exec(
    line,
  )?.[1];
}
