/** `dmctl status`: every thin pool on the host, its use, health, monitoring and autoextend. */
import type { Command } from 'commander';
import { buildStatus } from '../plan/status.js';
import type { StatusState } from '../model/state.js';
import { probeStatus } from '../probe/status.js';
import { renderStatusJson, renderStatusText } from '../render/status.js';
import { colorWanted, makeStyle } from '../render/style.js';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { DmctlError, ExitCode, InterruptedError } from '../errors.js';
import { checkStatus, defaultThresholds, pluginCodes } from '../plan/check.js';
import { writeOutputFile } from '../run/output.js';
import { renderPrometheus } from '../render/prometheus.js';
import { intArg } from './parse.js';
import { sleepOf, type CliContext, type GlobalOptions } from './context.js';

const StatusOptionsSchema = z
  .object({
    check: z._default(z.boolean(), false),
    warn: z._default(intArg('--warn', 1, 100), defaultThresholds.warn),
    crit: z._default(intArg('--crit', 1, 100), defaultThresholds.crit),
    metaWarn: z._default(intArg('--meta-warn', 1, 100), defaultThresholds.metaWarn),
    metaCrit: z._default(intArg('--meta-crit', 1, 100), defaultThresholds.metaCrit),
    prometheus: z.optional(z.union([z.literal(true), z.string().check(z.startsWith('/', '--prometheus FILE must be an absolute path'))])),
    watch: z.optional(z.union([z.literal(true), intArg('--watch', 1, 3600)])),
    devices: z._default(z.boolean(), false),
    pool: z.optional(z.string().check(z.minLength(1, 'name a pool as `dmctl status` lists it'))),
    // -t SECS: read (and validated) with --timeout by main(), before the probes start.
    T: z.optional(z.string()),
  })
  .check(
    z.refine((o) => o.warn <= o.crit && o.metaWarn <= o.metaCrit, { message: 'a warning threshold must not be above its critical one', path: ['warn'] }),
    z.refine((o) => o.pool === undefined || o.devices, { message: 'only with --devices (it picks the pool whose devices are listed)', path: ['pool'] }),
    z.refine((o) => !o.devices || (!o.check && o.prometheus === undefined && o.watch === undefined), {
      message: 'not with --check, --prometheus or --watch (it reads a metadata snapshot of each pool: run it on its own)',
      path: ['devices'],
    }),
  );

export async function runStatus(global: GlobalOptions, cmd: Command, c: CliContext): Promise<number> {
  const o = StatusOptionsSchema.parse(cmd.opts());
  // The first probe may already be running (started by main()); later ones (--watch) are fresh.
  const probe = (): Promise<StatusState> => {
    const early = c.statusProbe;
    c.statusProbe = undefined;
    return early ?? probeStatus(c);
  };
  if (o.devices) {
    const { runStatusDevices } = await import('./status-devices.js');
    return runStatusDevices(global, o.pool, c, await probe());
  }
  if (o.check) {
    // Plugin conventions: a failed probe is UNKNOWN (3), on stdout, in one line.
    try {
      const result = checkStatus(buildStatus(await probe()), o);
      c.io.stdout.write(`${result.line}\n`);
      return result.code;
    } catch (error) {
      if (!(error instanceof DmctlError) || error instanceof InterruptedError) throw error;
      c.io.stdout.write(`DMCTL UNKNOWN - ${error.message.split('\n')[0]}${error.hint ? ` (${error.hint})` : ''}\n`);
      return pluginCodes.unknown;
    }
  }
  if (o.prometheus !== undefined) {
    const text = renderPrometheus(buildStatus(await probe()));
    if (o.prometheus === true) c.io.stdout.write(text);
    else await writeOutputFile(c.files, o.prometheus, text, 0o644);
    return ExitCode.ok;
  }
  const style = makeStyle(colorWanted(c.io.stdout, !global.color, c.env));
  const render = async () => {
    const report = buildStatus(await probe());
    return global.json ? renderStatusJson(report) : renderStatusText(report, style);
  };
  if (o.watch === undefined) {
    c.io.stdout.write(await render());
    return ExitCode.ok;
  }
  const seconds = o.watch === true ? 2 : o.watch;
  let stop = false;
  const remove = c.onInterrupt?.(() => {
    // The first signal ends the watch, even while a probe hangs: it is killed.
    stop = true;
    c.cancel?.();
  });
  const sleep = sleepOf(c);
  try {
    while (!stop) {
      let text: string;
      try {
        text = await render();
      } catch (error) {
        if (stop && error instanceof InterruptedError) break;
        throw error;
      }
      // Redraw in place on a terminal; append otherwise (a log stays readable).
      const clear = c.io.stdout.isTTY ? '\x1b[H\x1b[2J' : '';
      c.io.stdout.write(`${clear}${style.dim(`every ${seconds}s: dmctl status  (Ctrl-C to stop)`)}\n${text}`);
      for (let waited = 0; waited < seconds * 1000 && !stop; waited += 250) await sleep(250);
    }
  } finally {
    remove?.();
  }
  return ExitCode.ok;
}
