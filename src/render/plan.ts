/**
 * Two renderings of one Plan: human text and JSON. Both go to stdout: the plan is the data.
 */
import type { ChalkInstance } from 'chalk';
import { formatArgv } from '../system/exec.js';
import type { Action, Plan } from '../plan/types.js';

export function renderPlanJson(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

export function describeAction(action: Action): string[] {
  switch (action.kind) {
    case 'exec':
      return [`$ ${formatArgv(action.argv)}`];
    case 'move':
      return [`move ${action.from} → ${action.to}`];
    case 'check': {
      const expect = 'equals' in action.expect ? `= ${JSON.stringify(action.expect.equals)}` : `contains ${JSON.stringify(action.expect.includes)}`;
      const wait = action.waitSeconds > 0 ? ` (waits up to ${action.waitSeconds}s)` : '';
      return [`check $ ${formatArgv(action.argv)}  ${expect}${wait}`];
    }
    case 'writeFile': {
      const header = `write ${action.path} (mode ${action.mode.toString(8).padStart(4, '0')})${action.backupTo ? `, old file kept as ${action.backupTo}` : ''}:`;
      const body = action.content.replace(/\n$/, '').split('\n').map((l) => `  │ ${l}`);
      return [header, ...body];
    }
  }
}

export function renderPlanText(plan: Plan, style: ChalkInstance): string {
  const out: string[] = [];
  out.push(style.bold(`dmctl ${plan.command}: ${plan.target}`));
  if (plan.steps.length === 0) {
    out.push(`${style.green('✓')} nothing to do: the host is already as asked.`);
  } else {
    const width = String(plan.steps.length).length;
    plan.steps.forEach((step, i) => {
      const n = String(i + 1).padStart(width, ' ');
      const tag = step.destructive ? ` ${style.red.bold('[destructive]')}` : '';
      out.push('');
      out.push(`${style.bold(`${n}.`)} ${step.title}${tag}`);
      for (const line of describeAction(step.action)) out.push(`${' '.repeat(width + 2)}${style.cyan(line)}`);
      for (const argv of step.recovery ?? []) out.push(`${' '.repeat(width + 2)}${style.dim(`if it fails: $ ${formatArgv(argv)}`)}`);
      out.push(`${' '.repeat(width + 2)}${style.dim(`why: ${step.reason}`)}`);
    });
  }
  if (plan.notes.length > 0) {
    out.push('');
    for (const note of plan.notes) {
      out.push(note.level === 'warning' ? `${style.yellow('! warning:')} ${note.text}` : `${style.blue('→')} ${note.text}`);
    }
  }
  if (plan.steps.length > 0) {
    const destructive = plan.steps.filter((s) => s.destructive).length;
    out.push('');
    out.push(`Plan: ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}${destructive > 0 ? `, ${style.red(`${destructive} destructive`)}` : ''}.  basis ${plan.basis}`);
  }
  return `${out.join('\n')}\n`;
}
