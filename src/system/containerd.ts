/**
 * containerd as a consumer: its version and the devmapper snapshotter section of config.toml.
 */
import { parse as parseToml } from 'smol-toml';
import { configSize } from '../units.js';
import type { Argv, Query } from './exec.js';

export const defaultContainerdConfigPath = '/etc/containerd/config.toml';
export const devmapperPlugin = 'io.containerd.snapshotter.v1.devmapper';

/** `containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1` → `1.6.20~ds1`. */
export function containerdVersionQuery(): Query<string> {
  return {
    argv: ['containerd', '--version'],
    parse: (stdout) => {
      const m = /\s(v?\d+\.\d+\.\d+\S*)/.exec(stdout);
      if (!m) throw new Error(`no version in ${JSON.stringify(stdout.trim())}`);
      return m[1]!;
    },
  };
}

/** `ctr plugins ls id==devmapper`: the devmapper snapshotter's row, whose status is `ok` once it opened its pool. */
export function ctrDevmapperPluginArgv(): Argv {
  return ['ctr', 'plugins', 'ls', 'id==devmapper'];
}

export interface DevmapperConfig {
  poolName: string;
  rootPath: string;
  baseImageSize: string;
}

/**
 * The section header: config version 2 (and 3) name plugins by their full URI; a version 1 file (no
 * `version` line, as Docker's containerd.io package ships) by their short ID, and containerd 1.x
 * ignores the other spelling.
 */
function sectionKey(version: number): string {
  return version >= 2 ? `plugins."${devmapperPlugin}"` : 'plugins.devmapper';
}

export function devmapperSectionToml(c: DevmapperConfig, version = 2): string {
  return [
    `# Written by dmctl: containerd's devmapper snapshotter on a thin pool.`,
    `[${sectionKey(version)}]`,
    `  pool_name = ${JSON.stringify(c.poolName)}`,
    `  root_path = ${JSON.stringify(c.rootPath)}`,
    `  base_image_size = ${JSON.stringify(c.baseImageSize)}`,
    '',
  ].join('\n');
}

export type ContainerdConfigChange =
  | { kind: 'unchanged' }
  | { kind: 'write'; content: string }
  | { kind: 'conflict'; reason: string };

/**
 * Adds the devmapper section to config.toml, keeping the operator's file (and its comments) as is.
 * An existing, different devmapper section is a conflict the operator resolves by hand.
 */
export function mergeContainerdConfig(current: string | undefined, wanted: DevmapperConfig): ContainerdConfigChange {
  if (current === undefined || current.trim() === '') {
    return { kind: 'write', content: `version = 2\n\n${devmapperSectionToml(wanted)}` };
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(current) as Record<string, unknown>;
  } catch (error) {
    return { kind: 'conflict', reason: `it is not valid TOML (${(error as Error).message.split('\n')[0]})` };
  }
  const { version, section: existing } = devmapperSectionOf(parsed);
  if (existing === undefined) {
    return { kind: 'write', content: `${current.replace(/\n*$/, '\n')}\n${devmapperSectionToml(wanted, version)}` };
  }
  const differs = (
    [
      ['pool_name', wanted.poolName],
      ['root_path', wanted.rootPath],
      ['base_image_size', wanted.baseImageSize],
    ] as const
  ).filter(([key, value]) => existing[key] !== value);
  if (differs.length === 0) return { kind: 'unchanged' };
  return {
    kind: 'conflict',
    reason: `its devmapper section has ${differs.map(([k]) => `${k} = ${JSON.stringify(existing[k] ?? null)}`).join(', ')}`,
  };
}

/** What config.toml tells about the pool containerd's devmapper snapshotter uses. */
export interface ContainerdPoolUse {
  poolName: string;
  /** `base_image_size`: each snapshot's thin device (containerd reads it in binary units). */
  baseImageSizeBytes: number | undefined;
}

/**
 * The devmapper snapshotter's pool, or undefined when config.toml has none that containerd reads
 * (the section spelled for the file's config version), or is not valid TOML.
 */
export function containerdPoolUse(configText: string): ContainerdPoolUse | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(configText) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { section } = devmapperSectionOf(parsed);
  if (typeof section?.pool_name !== 'string') return undefined;
  return { poolName: section.pool_name, baseImageSizeBytes: configSize(section.base_image_size) };
}

/** The file's config version (1 when it has no `version`) and the devmapper section containerd reads in it. */
function devmapperSectionOf(parsed: Record<string, unknown>): { version: number; section: Record<string, unknown> | undefined } {
  const version = typeof parsed.version === 'number' ? parsed.version : 1;
  const plugins = (parsed.plugins ?? {}) as Record<string, unknown>;
  return { version, section: plugins[version >= 2 ? devmapperPlugin : 'devmapper'] as Record<string, unknown> | undefined };
}

/** The devmapper snapshotter's `root_path` (undefined when config.toml sets none, or is not valid TOML). */
export function containerdDevmapperRoot(configText: string): string | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(configText) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const root = devmapperSectionOf(parsed).section?.root_path;
  return typeof root === 'string' && root !== '' ? root : undefined;
}
