/** dmctl(1) is generated from the command definitions: every subcommand and option is in it. (Rendered by man: test/e2e/packaging.e2e.test.ts.) */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { commands } from '../../../src/commands/definitions.js';
import type { CliContext } from '../../../src/commands/context.js';

async function manPage(): Promise<string> {
  let stdout = '';
  const code = await main(['__man'], { io: { stdout: { write: (s: string) => void (stdout += s) }, stderr: { write: () => {} } } });
  expect(code).toBe(0);
  return stdout;
}

const roff = (flag: string) => flag.replace(/-/g, '\\-');
const defined = commands(() => async () => {}, () => ({}) as CliContext).filter((c) => !c.name().startsWith('__'));

describe('dmctl(1)', () => {
  it('is a section 1 man page with the version', async () => {
    const page = await manPage();
    expect(page).toMatch(/^\.\\" dmctl\(1\)/);
    expect(page).toContain('.TH DMCTL 1 "" "dmctl 0.1.0" "User Commands"');
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'GLOBAL OPTIONS', 'COMMANDS', 'EXIT STATUS', 'SEE ALSO']) expect(page).toMatch(new RegExp(`^\\.SH "?${section}"?$`, 'm'));
  });

  it.each(defined.map((c) => [c.name(), c] as const))('has %s with its description, arguments and every option', async (_name, cmd) => {
    const page = await manPage();
    expect(page).toContain(`.SS "dmctl ${cmd.name()}"`);
    // The description as one paragraph (roff escapes only; `code` in bold).
    const first = cmd.description().split(' ').slice(0, 6).join(' ');
    expect(page).toContain(first);
    for (const a of cmd.registeredArguments) expect(page).toContain(`\\fI${a.name()}\\fR`);
    const section = page.slice(page.indexOf(`.SS "dmctl ${cmd.name()}"`)).split('\n.SS ')[0]!;
    for (const o of cmd.options) expect(section).toContain(`\\fB${roff(o.flags.split(/\s+[<[]/)[0]!)}\\fR`);
  });

  it('lists the global options and no line starts a roff request by accident', async () => {
    const page = await manPage();
    for (const flag of ['--dry-run', '--yes', '--json', '--no-color', '--verbose', '--detailed-exitcode', '--format', '--out', '--wait', '--version']) expect(page).toContain(roff(flag));
    const requests = page.split('\n').filter((l) => /^[.']/.test(l)).map((l) => /^[.'](\S+)/.exec(l)![1]);
    expect(new Set(requests)).toEqual(new Set(['\\"', 'TH', 'nh', 'ad', 'SH', 'SS', 'TP', 'PP', 'br']));
  });
});
