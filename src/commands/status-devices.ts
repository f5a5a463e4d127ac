/**
 * `dmctl status --devices [--pool NAME]`: per pool, every thin device with its mapped and exclusive
 * bytes, largest first, and its owner. probe (status's probe, then the devices probe) → plan
 * (targets) → run (a metadata snapshot per pool, always released) → plan (the report) → render.
 */
import { buildDevicesReport, devicesTargets } from '../plan/devices.js';
import { buildStatus } from '../plan/status.js';
import { probeDevices } from '../probe/devices.js';
import type { StatusState } from '../model/state.js';
import { renderDevicesJson, renderDevicesText } from '../render/devices.js';
import { colorWanted, makeStyle } from '../render/style.js';
import { readThinUsage } from '../run/thin-usage.js';
import { ExitCode } from '../errors.js';
import type { CliContext, GlobalOptions } from './context.js';

export async function runStatusDevices(global: GlobalOptions, pool: string | undefined, c: CliContext, state: StatusState): Promise<number> {
  const status = buildStatus(state);
  const devices = await probeDevices(c, { daemonJson: state.daemonJson, containerdConfig: state.containerdConfig }, state.deviceMapperLoaded);
  const { targets, skipped } = devicesTargets(status, devices, { pool });
  const reads = [];
  // One pool at a time: each holds its metadata snapshot only while its thin_ls runs.
  for (const target of targets) {
    const usage = await readThinUsage(
      c.executor,
      { pool: target.pool.name, kernelName: target.kernel.kernelName, metadataDevice: target.metadataDevice },
      { onInterrupt: c.onInterrupt },
    );
    reads.push({ target, usage });
  }
  const report = buildDevicesReport(devices, reads, skipped);
  const style = makeStyle(colorWanted(c.io.stdout, !global.color, c.env));
  c.io.stdout.write(global.json ? renderDevicesJson(report) : renderDevicesText(report, style));
  return ExitCode.ok;
}
