#!/usr/bin/env node
// dmctl's launcher. It runs dist/dmctl.cjs (what tsc emitted to dist/, bundled by scripts/bundle.mjs)
// with the V8 code cache the build wrote next to it, so node neither resolves some forty modules nor
// compiles them again on every run: a monitor runs `dmctl status` every few seconds
// (docs/performance.md). A cache from another node version is rejected by V8: dmctl then compiles
// as usual, only slower. This file is CommonJS (bin/package.json): loading it needs no ESM loader.
'use strict';
const { readFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'dmctl.cjs');
const codeCache = `${bundle}.codecache`;

/** Compiles and evaluates the bundle (with `cachedData` when given); returns its exports and the script. */
function load(cachedData) {
  let source;
  try {
    source = readFileSync(bundle, 'utf8');
  } catch {
    process.stderr.write(`dmctl: error: ${bundle} is missing: run \`npm run build\` (npm ci runs it)\n`);
    process.exit(1);
  }
  // The bundle starts with a `#!` line (it runs on its own too): a comment of the same length here.
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  const script = new Script(wrap(source), { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, bundle, __dirname);
  return { exports: module.exports, script };
}

if (require.main === module) {
  let cachedData;
  try {
    cachedData = readFileSync(codeCache);
  } catch {
    // no cache (a build without one): compile as usual
  }
  load(cachedData)
    .exports.main(process.argv.slice(2))
    .then((code) => {
      process.exitCode = code;
    });
} else {
  module.exports = { bundle, codeCache, load };
}
