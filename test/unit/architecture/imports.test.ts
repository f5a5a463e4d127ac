/** The layering of docs/architecture.md, checked on the source: who may import whom, and no cycles. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '../../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** file (relative to src) → the files it imports (static `import … from`, `export … from`, and `import()`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
    graph.set(relative(src, file), specs.map((s) => relative(src, normalize(join(dirname(file), s.replace(/\.js$/, '.ts'))))));
  }
  return graph;
}

const layerOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : 'top');

/** What each layer may import besides itself (and the dependency-free top-level helpers). */
const allowed: Record<string, string[]> = {
  system: [],
  model: ['system'],
  probe: ['system', 'model'],
  plan: ['system', 'model'],
  // render/progress.ts implements run/'s RunHooks (progress on stderr while steps run).
  render: ['system', 'model', 'plan', 'run'],
  run: ['system', 'model', 'plan'],
};
const topLevelHelpers = new Set(['units.ts', 'zod-locale.ts', 'errors.ts', 'defaults.ts']);

describe('source layering (docs/architecture.md)', () => {
  const graph = importGraph();

  it('finds the source files', () => {
    expect(graph.has('plan/init-direct.ts')).toBe(true);
    expect(graph.get('plan/init-direct.ts')).toContain('model/state.ts');
  });

  it('each layer imports only the layers below it; probe/ and plan/ never each other', () => {
    const violations: string[] = [];
    for (const [file, deps] of graph) {
      const layer = layerOf(file);
      const may = allowed[layer];
      if (!may) continue; // commands/ and cli.ts wire everything
      for (const dep of deps) {
        const target = layerOf(dep);
        if (target === layer || may.includes(target) || topLevelHelpers.has(dep)) continue;
        violations.push(`${file} imports ${dep}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
