/** `dmctl status`: every thin pool on the host, its use, health, monitoring and autoextend. */
import type { Command } from 'commander';
import { buildStatus } from '../plan/status.js';
import { probeStatus } from '../probe/probe.js';
import { renderStatusJson, renderStatusText } from '../render/status.js';
import { colorWanted, makeStyle } from '../render/style.js';
import { ExitCode } from '../errors.js';
import type { CliContext, GlobalOptions } from './context.js';

export async function runStatus(global: GlobalOptions, _cmd: Command, c: CliContext): Promise<number> {
  const report = buildStatus(await probeStatus(c));
  const style = makeStyle(colorWanted(c.io.stdout, !global.color, c.env));
  c.io.stdout.write(global.json ? renderStatusJson(report) : renderStatusText(report, style));
  return ExitCode.ok;
}
