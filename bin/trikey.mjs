#!/usr/bin/env node
// The trikey command: runs the bundle that `npm ci` (prepare) or `npm run build` makes.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/trikey.mjs', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('trikey: dist/trikey.mjs is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(bundle.href);
