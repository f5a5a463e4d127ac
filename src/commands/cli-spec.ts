/**
 * The command line as data, read from the same commander objects that print --help: the one source
 * the shell completion scripts and the man page are generated from. Loaded only by `completion` and
 * the man page's build step, never on another command's path.
 */
import type { Argument, Command, Option } from 'commander';

/** What a value is, so completion can offer the right words. */
export type ValueKind = 'device' | 'pool' | 'file' | 'dir' | 'choice' | 'word';

export interface OptionSpec {
  /** As --help shows it: `-n, --dry-run`, `--pool <name>`. */
  flags: string;
  long?: string | undefined;
  short?: string | undefined;
  description: string;
  /** 'none' for a switch. */
  value: 'none' | 'required' | 'optional';
  /** The value's placeholder without brackets (`name`, `file`), '' for a switch. */
  valueName: string;
  kind: ValueKind;
  choices: string[];
  defaultValue?: string | undefined;
}

export interface ArgumentSpec {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  kind: ValueKind;
  choices: string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  description: string;
  /** `[options] <devices...>` */
  usage: string;
  arguments: ArgumentSpec[];
  options: OptionSpec[];
}

export interface ProgramSpec {
  name: string;
  description: string;
  version: string;
  options: OptionSpec[];
  /** The visible subcommands, in --help's order (commander's `help` included). */
  commands: CommandSpec[];
}

function kindOf(valueName: string, long: string | undefined, choices: readonly string[]): ValueKind {
  if (choices.length > 0) return 'choice';
  if (long === '--pool') return 'pool';
  if (valueName === 'file') return 'file';
  if (valueName === 'dir') return 'dir';
  if (valueName === 'devices') return 'device';
  return 'word';
}

function optionSpec(o: Option): OptionSpec {
  const valueName = /[<[]([^>\]]+?)(?:\.\.\.)?[>\]]/.exec(o.flags)?.[1] ?? '';
  const choices = [...(o.argChoices ?? [])];
  const hasDefault = o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean' && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0);
  return {
    flags: o.flags,
    long: o.long,
    short: o.short,
    description: o.description,
    value: o.required ? 'required' : o.optional ? 'optional' : 'none',
    valueName,
    kind: o.required || o.optional ? kindOf(valueName, o.long, choices) : 'word',
    choices,
    defaultValue: hasDefault ? String(o.defaultValue) : undefined,
  };
}

function argumentSpec(a: Argument): ArgumentSpec {
  const choices = [...(a.argChoices ?? [])];
  return { name: a.name(), description: a.description, required: a.required, variadic: a.variadic, kind: kindOf(a.name(), undefined, choices), choices };
}

function commandSpec(cmd: Command): CommandSpec {
  const help = cmd.createHelp();
  return {
    name: cmd.name(),
    summary: cmd.summary() || cmd.description(),
    description: cmd.description(),
    usage: cmd.usage(),
    arguments: cmd.registeredArguments.map(argumentSpec),
    options: help.visibleOptions(cmd).map(optionSpec),
  };
}

/** The program (dmctl's root command, as `main()` builds it) as data. */
export function specOf(program: Command): ProgramSpec {
  const help = program.createHelp();
  return {
    name: program.name(),
    description: program.description(),
    version: program.version() ?? '',
    options: help.visibleOptions(program).map(optionSpec),
    commands: help.visibleCommands(program).map(commandSpec),
  };
}
