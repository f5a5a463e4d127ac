/** Every --help reads as prose at 80 columns: paragraphs wrapped by commander, never broken early. */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';

async function help(args: string[]): Promise<string> {
  let stdout = '';
  const code = await main([...args, '--help'], { io: { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: () => {} } } });
  expect(code).toBe(0);
  return stdout;
}

/** The column where a line's wrapped text continues: a description after its term, or the line's own indent. */
function textColumn(line: string): number {
  const item = /^( +)(\S.*?)( {2,})\S/.exec(line);
  if (item && item[1]!.length === 2) return item[1]!.length + item[2]!.length + item[3]!.length;
  return /^ */.exec(line)![0].length;
}

/**
 * Lines broken before the width was reached: a line followed by a continuation (same text column)
 * whose first word would still have fitted. That is a hard line break inside a paragraph, which
 * commander then wraps again ("data and metadata\nuse, chunk size…").
 */
export function earlyBreaks(text: string, width: number): string[] {
  const lines = text.split('\n');
  const found: string[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const line = lines[i]!;
    const next = lines[i + 1]!;
    if (line.trim() === '' || next.trim() === '' || line.startsWith('Usage:')) continue;
    const indent = /^ */.exec(next)![0].length;
    if (indent !== textColumn(line)) continue;
    const word = next.trim().split(/\s+/)[0]!;
    if (line.trimEnd().length + 1 + word.length <= width) found.push(`${line.trimEnd()}⏎${word}`);
  }
  return found;
}

const width = process.stdout.isTTY ? process.stdout.columns : 80;
const subcommands = ['init-loop', 'init-direct', 'extend', 'resize-loop', 'reactivate', 'status', 'apply', 'completion'];

describe('--help at 80 columns', () => {
  it('the check finds the break status --help had (issue 15.5)', () => {
    const before = [
      'Show every thin pool on the host (LVM thin pools and bare dm thin-pool targets):',
      'data and metadata',
      'use, chunk size, transaction id, state, when-full policy, dmeventd monitoring,',
      'autoextend settings and',
      'the VG free space they can grow into, with a warning and its fix for each known',
      'trap.',
      '',
      'Options:',
      '  --meta-crit <pct>    with --check: metadata use that is critical (default:',
      '                       "90")',
      '  --prometheus [file]  node_exporter textfile metrics,',
      '                       to stdout or atomically to FILE',
    ].join('\n');
    expect(earlyBreaks(before, 80)).toEqual([
      'data and metadata⏎use,',
      'autoextend settings and⏎the',
      '  --prometheus [file]  node_exporter textfile metrics,⏎to',
    ]);
  });

  it.each([[[]], ...subcommands.map((c) => [[c]])])('dmctl %j --help: no line too long, none broken early', async (args: string[]) => {
    const text = await help(args);
    expect(text.split('\n')[0]).toMatch(new RegExp(`^Usage: dmctl ${args[0] ?? ''}`));
    // A single word longer than its column (containerd's default root path) cannot be wrapped.
    expect(text.split('\n').filter((l) => l.length > width && /\S\s+\S/.test(l.trim()))).toEqual([]);
    expect(earlyBreaks(text, width)).toEqual([]);
  });

  it('status --help shows its description as one paragraph', async () => {
    const text = await help(['status']);
    const paragraph = text.split('\n\n')[1]!.replace(/\n/g, ' ');
    expect(paragraph).toBe(
      'Show every thin pool on the host (LVM thin pools and bare dm thin-pool targets): data and metadata use, chunk size, transaction id, state, when-full policy, dmeventd monitoring, autoextend settings and the VG free space they can grow into, with a warning and its fix for each known trap.',
    );
  });
});
