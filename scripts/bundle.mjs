#!/usr/bin/env node
// Second part of `npm run build`: bundles what tsc emitted to dist/ into one CommonJS file,
// dist/dmctl.cjs, and writes the V8 code cache bin/dmctl.js runs it with (dist/dmctl.cjs.codecache).
//
// Why (docs/performance.md): node resolves, compiles and evaluates every module file it loads. zod
// alone was ~450 KB in ~100 files; tree-shaken (zod/mini) it is ~36 KB. One CommonJS file needs no
// ESM loader, and a code cache means no compiling at all. Subcommands stay lazy: esbuild turns each
// `import('./commands/x.js')` into a module initialised only when that command runs.
import { build } from 'esbuild';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli.js'],
  outfile: 'dist/dmctl.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  // tsc's source maps are picked up: the map points into src/*.ts.
  sourcemap: 'linked',
  // The bundle is also dmctl's single-file install (docs/install.md): it holds every dependency, so
  // `node dmctl.cjs …` (or the file itself, executable, on PATH) runs it anywhere without node_modules.
  // bin/dmctl.js loads it as a module instead, so this footer stays idle there.
  banner: { js: '#!/usr/bin/env node' },
  footer: { js: 'if(require.main===module)module.exports.main(process.argv.slice(2)).then(c=>{process.exitCode=c});' },
  logLevel: 'warning',
});
chmodSync('dist/dmctl.cjs', 0o755);

// The code cache holds the functions compiled by the time it is made, so first run what an operator
// runs most: every --help, and `status` on a recorded real host (fixtures, injected: no subprocess).
const { load, codeCache } = require('../bin/dmctl.js');
const { exports: cli, script } = load(undefined);
const sink = { write() {}, isTTY: false };
const quiet = { io: { stdout: sink, stderr: sink } };
for (const args of [['--version'], ['--help'], ...['init-loop', 'init-direct', 'extend', 'resize-loop', 'reactivate', 'status', 'apply'].map((c) => [c, '--help'])]) {
  await cli.main(args, quiet);
}
const fixture = (path) => readFileSync(`${root}test/fixtures/${path}`, 'utf8');
const outputs = {
  lvs: () => fixture('lvm-2.03.16-uml-6.1/lvs-pool.txt'),
  dmsetup: () => fixture('lvm-2.03.16-uml-6.1/dmsetup-status-pool.txt'),
  lvmconfig: () => fixture('host-debian12/lvmconfig-thin.txt'),
};
const recordedHost = {
  ...quiet,
  executor: { run: async (argv) => ({ exitCode: 0, stdout: outputs[argv[0]]?.() ?? '', stderr: '' }) },
  files: new Proxy({}, {
    get: (_target, method) => async (path) => (method === 'which' ? `/usr/sbin/${path}` : method === 'readText' && path === '/proc/devices' ? '253 device-mapper\n' : undefined),
  }),
  uid: 0,
  env: {},
};
let out = '';
recordedHost.io = { stdout: { write: (text) => (out += text) }, stderr: sink };
for (const args of [['status'], ['status', '--check'], ['status', '--prometheus'], ['--json', 'status']]) {
  out = '';
  const code = await cli.main(args, recordedHost);
  if (code !== 0 && !args.includes('--check')) throw new Error(`code-cache warm-up: dmctl ${args.join(' ')} exited ${code}`);
}
if (JSON.parse(out).pools.length !== 1) throw new Error(`code-cache warm-up: status saw no pool in the recorded host: ${out}`);
// execa (the real executor, loaded on a command's first subprocess): run a harmless one, so its code
// is in the cache too, with a time limit as every command has.
const warmed = await cli.createSpawnExecutor().run(['true'], { timeoutMs: 5000 });
if (warmed.exitCode !== 0) throw new Error(`code-cache warm-up: \`true\` exited ${warmed.exitCode}`);
writeFileSync(codeCache, script.createCachedData());
