#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `npm run build` (run by `npm ci` through `prepare`).
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
