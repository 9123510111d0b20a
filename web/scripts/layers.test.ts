/**
 * The web app's layers point one way (web/src/lib/README.md): every relative
 * import in web/src goes to the same layer or a lower one, and no module
 * reaches itself again through its imports. Dynamic `import()` counts too.
 * A unit test may also import the server's test helpers (sync-server/test/),
 * which start a real server: they are outside the app and in no layer.
 *
 *   app          web/src/*: main.ts, App.svelte, sw.ts, the window.parley façade
 *   components   *.svelte, components/
 *   services     services/, and a feature folder's other modules (push/, media/, pwa/, emoji/)
 *   state        *.svelte.ts, state/, search/
 *   sync         sync/
 *   data         db.ts
 *   shared       shared/, custom/, emoji/emoji.ts and its data (leaves: they import nothing of the app)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAYERS = ['shared', 'data', 'sync', 'state', 'services', 'components', 'app'] as const;
type Layer = (typeof LAYERS)[number];

/** A module's layer, by its path under web/src; the first rule that matches wins. */
const RULES: readonly (readonly [RegExp, Layer])[] = [
  [/^[^/]+$/, 'app'],
  [/^lib\/(shared|custom)\//, 'shared'],
  [/^lib\/emoji\/(emoji(\.test)?\.ts|emoji-data\.json)$/, 'shared'],
  [/^lib\/db(\.history)?\.ts$/, 'data'],
  // The store's migration test reads what it migrated through the outbox (sync): it sits with the code it drives.
  [/^lib\/db\.test\.ts$/, 'sync'],
  [/^lib\/sync\//, 'sync'],
  [/\.svelte$/, 'components'],
  [/^lib\/components\//, 'components'],
  [/\.svelte\.ts$/, 'state'],
  [/^lib\/(state|search)\//, 'state'],
  [/^lib\/(services|push|media|pwa|emoji)\//, 'services'],
];

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** What a web unit test may import from outside web/src (paths from the repository's root). */
const SERVER_TEST_HELPERS = /^sync-server\/test\/[\w-]+\.ts$/;

/**
 * A static import or re-export (the clause is names, braces, `*`, `as` and
 * `type`: nothing a statement of another kind holds before `from`), a bare
 * import, or a dynamic import(). Checked against TypeScript's own
 * preProcessFile on every file of web/src when written (the same 527
 * imports), without loading the compiler: seconds on a loaded machine.
 */
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]*?\s)?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;

function layerOf(path: string): Layer | null {
  return RULES.find(([pattern]) => pattern.test(path))?.[1] ?? null;
}

/** The script of a module: a component's <script> blocks, or the whole file. */
function scriptOf(path: string, text: string): string {
  if (!path.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

/** The modules under `dir` (paths relative to web/src). */
function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return /\.(ts|svelte)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [relative(SRC, path).split(sep).join('/')] : [];
  });
}

/** `spec` imported from the module at `path` (both relative to web/src), as a path relative to web/src. */
function resolve(path: string, spec: string): string {
  const parts = path.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}

interface Graph {
  /** Each module's relative imports, resolved (paths relative to web/src). */
  edges: Map<string, string[]>;
  unresolved: string[];
}

function importGraph(): Graph {
  const edges = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const file of modules(SRC)) {
    const targets: string[] = [];
    for (const match of scriptOf(file, readFileSync(join(SRC, file), 'utf8')).matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? '';
      if (!spec.startsWith('.')) continue;
      // A unit test may start a real server with the server's test helpers: outside the app, in no layer.
      if (file.endsWith('.test.ts') && SERVER_TEST_HELPERS.test(relative(REPO, join(SRC, file, '..', spec)).split(sep).join('/'))) continue;
      const target = resolve(file, spec);
      if (existsSync(join(SRC, target))) targets.push(target);
      else unresolved.push(`${file} -> ${spec}`);
    }
    edges.set(file, targets);
  }
  return { edges, unresolved };
}

/** Import circles: the strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

describe('the layers of web/src', () => {
  const { edges, unresolved } = importGraph();

  it('resolves every relative import to a file', () => {
    expect(unresolved).toEqual([]);
  });

  it('places every module in a layer', () => {
    expect([...edges.keys()].filter((path) => layerOf(path) === null)).toEqual([]);
  });

  it('imports only from the same layer or a lower one', () => {
    const upward: string[] = [];
    for (const [from, targets] of edges) {
      const a = layerOf(from);
      for (const to of targets) {
        const b = layerOf(to);
        if (a !== null && b !== null && LAYERS.indexOf(b) > LAYERS.indexOf(a)) upward.push(`${from} (${a}) -> ${to} (${b})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import circle', () => {
    expect(cycles(edges)).toEqual([]);
  });

  it('would see a circle, and a module importing itself', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e', 'd']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
  });
});
