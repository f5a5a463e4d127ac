/** `dmctl status`: every thin pool on the host, its use, health, monitoring and autoextend. */
import { Command } from 'commander';
import { buildStatus } from '../plan/status.js';
import { probeStatus } from '../probe/probe.js';
import { renderStatusJson, renderStatusText } from '../render/status.js';
import { colorWanted, makeStyle } from '../render/style.js';
import { ExitCode } from '../errors.js';
import type { CliContext, GlobalOptions } from './context.js';
import type { RunAction } from './consumer-options.js';

export function statusCommand(run: RunAction, ctx: () => CliContext): Command {
  return new Command('status')
    .summary('show every thin pool: data and metadata use, health, monitoring, autoextend')
    .description(
      'Show every thin pool on the host (LVM thin pools and bare dm thin-pool targets): data and metadata\n' +
        'use, chunk size, transaction id, state, when-full policy, dmeventd monitoring, autoextend settings and\n' +
        'the VG free space they can grow into, with a warning and its fix for each known trap.',
    )
    .action(
      run(async (global: GlobalOptions) => {
        const c = ctx();
        const report = buildStatus(await probeStatus(c));
        const style = makeStyle(colorWanted(c.io.stdout, !global.color, c.env));
        c.io.stdout.write(global.json ? renderStatusJson(report) : renderStatusText(report, style));
        return ExitCode.ok;
      }),
    );
}
