// Bundles the workbench into OUTDIR: index.html, app.js (every module and library in one
// file, no remote origin) and app.css. Usage: node build.mjs OUTDIR
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2];
if (!out) {
  console.error('usage: node build.mjs OUTDIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  format: 'esm',
  splitting: true,  // the step drawing's layout engine loads only on the pages that draw
  chunkNames: 'chunk-[hash]',
  target: ['chrome110', 'firefox115'],
  minify: true,
  legalComments: 'none',
  outdir: out,
  logLevel: 'warning',
});
copyFileSync('src/app.css', join(out, 'app.css'));
copyFileSync('index.html', join(out, 'index.html'));
copyFileSync('src/favicon.svg', join(out, 'favicon.svg'));
