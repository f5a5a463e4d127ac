/**
 * A plan as a self-contained bash runbook: the same steps, in the same order, with the same argv and
 * the same file writes and checks as `dmctl apply`, for a host without Node or for a change review.
 */
import { formatArgv, shellQuote, toolEnvironment } from '../system/exec.js';
import type { Plan, Step } from '../plan/types.js';

const helpers = `# dmctl_check WAIT MODE EXPECTED CMD...: run CMD (read-only) until its trimmed output equals
# (MODE=equals) or contains (MODE=includes) EXPECTED, at most max(WAIT,1) times, a second apart.
dmctl_check() {
  local wait=$1 mode=$2 want=$3 out='' i tries
  shift 3
  tries=$(( wait > 1 ? wait : 1 ))
  for ((i = 1; i <= tries; i++)); do
    if out=$("$@" 2>/dev/null); then
      out="\${out#"\${out%%[![:space:]]*}"}"; out="\${out%"\${out##*[![:space:]]}"}"
      if [[ $mode == equals && $out == "$want" ]] || [[ $mode == includes && $out == *"$want"* ]]; then return 0; fi
    fi
    ((i < tries)) && sleep 1
  done
  echo "check failed: expected $mode '$want', got '$out'" >&2
  return 1
}

# dmctl_write PATH MODE CONTENT [BACKUP]: durable atomic write, as dmctl's own: the backup synced first,
# a temp file in the same directory synced, renamed over PATH, then the directory synced.
dmctl_write() {
  local path=$1 mode=$2 content=$3 backup=\${4:-} tmp
  mkdir -p -- "$(dirname -- "$path")"
  if [[ -n $backup && -e $path ]]; then cp -p -- "$path" "$backup"; sync -- "$backup" 2>/dev/null || true; fi
  tmp=$(mktemp "$(dirname -- "$path")/.$(basename -- "$path").dmctl-XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  sync -- "$tmp" 2>/dev/null || true
  mv -f -- "$tmp" "$path"
  sync -- "$(dirname -- "$path")" 2>/dev/null || true
}
`;

function command(step: Step): string {
  const a = step.action;
  switch (a.kind) {
    case 'exec':
      return formatArgv(a.argv);
    case 'move':
      return `mv -T -- ${shellQuote(a.from)} ${shellQuote(a.to)}`;
    case 'writeFile':
      return `dmctl_write ${shellQuote(a.path)} ${a.mode.toString(8).padStart(4, '0')} ${shellQuote(a.content)}${a.backupTo ? ` ${shellQuote(a.backupTo)}` : ''}`;
    case 'check': {
      const [mode, want] = 'equals' in a.expect ? ['equals', a.expect.equals] : ['includes', a.expect.includes];
      return `dmctl_check ${Math.ceil(a.waitSeconds)} ${mode} ${shellQuote(want)} ${formatArgv(a.argv)}`;
    }
  }
}

export function renderPlanShell(plan: Plan): string {
  const out: string[] = [
    '#!/usr/bin/env bash',
    `# dmctl runbook — ${plan.command}: ${plan.target}`,
    `# From a plan with basis ${plan.basis} (the host state it was made for). Review it, then run it as root`,
    '# on that host. It runs the same commands as `dmctl apply` would, in order, and stops at the first failure.',
    ...plan.notes.map((n) => `# ${n.level === 'warning' ? 'WARNING: ' : 'note: '}${n.text}`),
    'set -euo pipefail',
    `export ${Object.entries(toolEnvironment).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')}`,
    '',
    helpers,
  ];
  if (plan.steps.length === 0) out.push('echo "nothing to do: the host was already as asked"');
  plan.steps.forEach((step, i) => {
    out.push(`# --- step ${i + 1}/${plan.steps.length} (${step.id}): ${step.title}${step.destructive ? '   *** DESTRUCTIVE ***' : ''}`);
    out.push(`# why: ${step.reason.replace(/\n/g, ' ')}`);
    out.push(`echo ${shellQuote(`[${i + 1}/${plan.steps.length}] ${step.title}`)} >&2`);
    if (step.recovery && step.recovery.length > 0) {
      out.push(`if ! ${command(step)}; then`);
      out.push(`  echo ${shellQuote(`step ${step.id} failed: restoring a safe state`)} >&2`);
      for (const argv of step.recovery) out.push(`  ${formatArgv(argv)} || true`);
      out.push('  exit 1', 'fi');
    } else {
      out.push(command(step));
    }
    out.push('');
  });
  out.push(`echo ${shellQuote(`done: ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'} (${plan.target})`)} >&2`);
  return `${out.join('\n')}\n`;
}
