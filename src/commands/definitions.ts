/**
 * Every subcommand as commander sees them (the six of the guide, and `apply`): names, arguments, options and help. Each action loads
 * its implementation (zod schemas, probes, planners) only when that command runs, so `--help`
 * and `--version` stay about as fast as starting node.
 */
import { Argument, Command } from 'commander';
import { initDirectDefaults, initLoopDefaults } from '../defaults.js';
import type { CliContext } from './context.js';
import { addConsumerOptions, type Implementation, type RunAction } from './consumer-flags.js';

const lazy = (run: RunAction, ctx: () => CliContext, load: () => Promise<Implementation>) =>
  run(async (global, cmd) => (await load())(global, cmd, ctx()));

export function commands(run: RunAction, ctx: () => CliContext): Command[] {
  const initLoop = new Command('init-loop')
    .summary('build a loopback-backed thin pool for testing (sparse files, losetup, dmsetup create)')
    .description(
      'Build a thin pool on two sparse files attached to loop devices (the guide\'s loop-lvm test setup, with ' +
        'the exact dmsetup table shown), record it so resize-loop and reactivate can find it, and configure ' +
        'its consumer. For testing only: loop pools are slow and need `dmctl reactivate` after a reboot.',
    )
    .option('--pool <name>', 'device-mapper name of the pool', initLoopDefaults.pool)
    .option('--dir <dir>', `where the sparse files go (default ${initLoopDefaults.dir}/POOL)`)
    .option('--data-size <size>', 'sparse data file size (default 100G, like dm.loopdatasize)')
    .option('--metadata-size <size>', 'sparse metadata file size (default 2G, like dm.loopmetadatasize)');
  addConsumerOptions(initLoop, 'let Docker (Engine < 25) make its own loop files and pool (the guide\'s loop-lvm steps)').action(
    lazy(run, ctx, async () => (await import('./init-loop.js')).runInitLoop),
  );

  const initDirect = new Command('init-direct')
    .summary('build a production thin pool on whole disks (direct-lvm) and hand it to Docker or containerd')
    .description(
      'Build a thin pool on one or more whole, empty disks (LVM direct-lvm, the Docker guide\'s production setup): ' +
        'pvcreate, vgcreate, data + metadata LVs, lvconvert into a thin pool, an autoextend profile, dmeventd ' +
        'monitoring (verified), then the consumer\'s configuration. Shows the plan first; re-running plans nothing.',
    )
    .argument('<devices...>', 'whole disks, e.g. /dev/xvdf (symlinks such as /dev/disk/by-id/… are resolved)')
    .option('--vg <name>', 'volume group to create', initDirectDefaults.vg)
    .option('--pool <name>', 'thin pool LV name', initDirectDefaults.pool)
    .option('--thinp-percent <n>', 'data LV size in percent of the VG (dm.thinp_percent)', String(initDirectDefaults.thinpPercent))
    .option('--thinp-metapercent <n>', 'metadata LV size in percent of the VG (dm.thinp_metapercent)', String(initDirectDefaults.thinpMetaPercent))
    .option('--autoextend-threshold <n>', 'grow the pool when data use passes this percent (50-99)', String(initDirectDefaults.autoextendThreshold))
    .option('--autoextend-percent <n>', 'grow by this percent of the pool (1-100)', String(initDirectDefaults.autoextendPercent))
    .option('--chunk-size <size>', 'pool chunk size, a multiple of 64K from 64K to 1G', '512K')
    .option('--force', 'erase existing filesystem/RAID/partition-table signatures on the disks (destructive)');
  addConsumerOptions(initDirect, 'let Docker (Engine < 25) build the pool itself from daemon.json (fresh installs only)').action(
    lazy(run, ctx, async () => (await import('./init-direct.js')).runInitDirect),
  );

  const extend = new Command('extend')
    .summary('grow a direct-lvm pool with new disks (vgextend, lvextend data or metadata)')
    .description(
      'Add whole, empty disks to the pool\'s VG (the same preflight as init-direct), then grow the pool\'s data ' +
        'by the new room (keeping enough free to double its metadata later), by --size, or grow its metadata ' +
        'with --metadata. Reports the size before and after, and verifies it.',
    )
    .argument('<devices...>', 'whole disks to add')
    .option('--vg <name>', 'the pool\'s VG (default: the VG of the only thin pool)')
    .option('--pool <name>', 'the thin pool (default: the only thin pool)')
    .option('--size <size>', 'grow data by this much (default: all the new room but a reserve)')
    .option('--metadata <size>', 'grow metadata by this much instead of data')
    .option('--force', 'erase existing signatures on the new disks (destructive)')
    .action(lazy(run, ctx, async () => (await import('./extend.js')).runExtend));

  const resizeLoop = new Command('resize-loop')
    .summary('grow a loop pool online (truncate, losetup -c, dmsetup reload + resume)')
    .description(
      'Grow the data file (or, with --metadata, the metadata file) of a loop pool to SIZE (200G, 200GiB) or by ' +
        'SIZE (+50G), online: truncate, losetup -c, then dmsetup reload and a single resume, so I/O freezes only ' +
        'inside one ioctl. Refuses to shrink; never leaves the pool suspended.',
    )
    .argument('<size>', 'new size (200G) or growth (+50G); binary units')
    .option('--pool <name>', 'the pool (default: the only loop pool on the host)')
    .option('--metadata', 'grow the metadata file instead of the data file')
    .action(lazy(run, ctx, async () => (await import('./resize-loop.js')).runResizeLoop));

  const reactivate = new Command('reactivate')
    .summary('bring thin pools back after a reboot (lvchange -ay, or re-attach loops and recreate the table)')
    .description(
      'Activate inactive LVM thin pools (-K when flagged skip-activation) and re-enable their monitoring; ' +
        'rebuild the loop pools dmctl built from their records (re-attach the files, dmsetup create with the ' +
        'same table). Nothing to do on a healthy host. --install-unit adds a systemd oneshot unit that runs ' +
        '`dmctl reactivate --yes --wait-devices 90` at boot, before docker.service and containerd.service. ' +
        'The pools dmctl made and the pool the consumer\'s config names are expected: one that is not there ' +
        '(after --wait-devices) fails with exit 4 and names what is missing.',
    )
    .option('--install-unit', 'install and enable a systemd unit that runs this at boot')
    .option('--wait-devices <secs>', 'wait up to SECS for the disks of expected pools to appear (default 0: look once)')
    .action(lazy(run, ctx, async () => (await import('./reactivate.js')).runReactivate));

  const status = new Command('status')
    .summary('show every thin pool: data and metadata use, health, monitoring, autoextend')
    .description(
      'Show every thin pool on the host (LVM thin pools and bare dm thin-pool targets): data and metadata ' +
        'use, chunk size, transaction id, state, when-full policy, dmeventd monitoring, autoextend settings and ' +
        'the VG free space they can grow into, with a warning and its fix for each known trap.',
    )
    .option('--check', 'one Nagios-style line; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('-t <seconds>', 'with --check: answer UNKNOWN if the host does not answer within SECONDS (default 10; same as --timeout)')
    .option('--warn <pct>', 'with --check: data use that warns', '80')
    .option('--crit <pct>', 'with --check: data use that is critical', '90')
    .option('--meta-warn <pct>', 'with --check: metadata use that warns', '80')
    .option('--meta-crit <pct>', 'with --check: metadata use that is critical', '90')
    .option('--prometheus [file]', 'node_exporter textfile metrics, to stdout or atomically to FILE')
    .option('--watch [seconds]', 'redraw every SECONDS (default 2) until Ctrl-C')
    .option('--devices', 'list each pool\'s thin devices, largest first, with their owner (Docker container, image layer…)')
    .option('--pool <name>', 'with --devices: only this pool (VG/LV or dm name)')
    .action(lazy(run, ctx, async () => (await import('./status.js')).runStatus));

  const apply = new Command('apply')
    .summary('apply a saved plan exactly as reviewed (refused if the host changed), or --resume a failed apply')
    .description(
      'Apply a plan saved with --out: the file is validated (a hand-edited or truncated plan is refused), the host ' +
        'is probed again, and a plan whose host state changed is refused as stale (exit 3); otherwise exactly ' +
        'its steps run. With --dry-run the same checks are made and the plan is only shown. --resume continues the ' +
        'newest failed or interrupted apply from the step that did not finish.',
    )
    .argument('[file]', 'a plan written by `dmctl … --out FILE`')
    .option('--resume', 'continue the newest failed or interrupted apply (from its journal)')
    .action(lazy(run, ctx, async () => (await import('./apply.js')).runApply));

  const completion = new Command('completion')
    .summary('print a shell completion script for bash, zsh or fish')
    .description(
      'Print a completion script for SHELL on stdout: subcommands, options and their choices; disks complete ' +
        'from the block devices under /dev, --pool from the pools on the host (through `dmctl __complete`). ' +
        'Install: `dmctl completion bash | sudo tee /etc/bash_completion.d/dmctl` (docs/completion.md).',
    )
    .addArgument(new Argument('<shell>', 'the shell the script is for').choices(['bash', 'zsh', 'fish']))
    .action(lazy(run, ctx, async () => (await import('./completion.js')).runCompletion));

  // For the completion scripts: `__complete pools [COMMAND]` prints the pools COMMAND's --pool takes.
  const complete = new Command('__complete')
    .argument('<what>')
    .argument('[command]')
    .action(lazy(run, ctx, async () => (await import('./completion.js')).runComplete));
  // For the build (scripts/man.mjs): the man page, dmctl(1), from these same definitions.
  const man = new Command('__man').action(lazy(run, ctx, async () => (await import('./man.js')).runMan));

  return [initLoop, initDirect, extend, resizeLoop, reactivate, status, apply, completion, complete, man];
}
