#!/usr/bin/env node
// Third part of `npm run build`: the man page dmctl(1), dist/dmctl.1, generated from the same command
// definitions as --help (src/commands/cli-spec.ts, src/commands/man.ts) by running the bundle's
// hidden `dmctl __man`. package.json's `man` field installs it with `npm install -g`.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const { load } = require('../bin/dmctl.js');
let page = '';
const io = { stdout: { write: (text) => void (page += text) }, stderr: process.stderr };
const code = await load(undefined).exports.main(['__man'], { io });
if (code !== 0 || !page.startsWith('.\\"')) throw new Error(`man page: dmctl __man exited ${code}`);
writeFileSync(`${root}dist/dmctl.1`, page);
