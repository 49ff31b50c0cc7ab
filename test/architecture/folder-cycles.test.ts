import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * No import cycles between the folders under server/ (docs/ARCHITECTURE.md): a folder is one concern, and two
 * concerns that need each other are one concern split badly, or a lower layer reaching up. The graph is built
 * from every import and export-from of server/**\/*.ts, type-only ones included (a type is a dependency too), with
 * each file counted in its first-level folder (`server/rest/interactions/read.ts` is `rest`); the files directly
 * in server/ (the CLIs, app.ts which composes the server, version.ts) are each a node of their own. There is no
 * list of exceptions: a cycle is removed by moving the code that closes it to the folder it belongs in (issue 19
 * removed the last ones; docs/ARCHITECTURE.md has the resulting layers).
 */
const SERVER = resolve('server');
/** The web app's folders (app/src: launch, plan, fhir, ui) follow the same rule. */
const APP = resolve('app', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function folderOf(file: string, root: string): string {
  return relative(root, file).split(sep)[0];
}

/** Folder → the folders it imports from, with one file that does, for the message. */
export function folderGraph(root = SERVER): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(root)) {
    const from = folderOf(file, root);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), fileName);
      if (!target.startsWith(root + sep)) continue;
      const to = folderOf(target, root);
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(root, file)} → ${fileName}`);
    }
  }
  return graph;
}

/** Every elementary cycle's strongly connected component, as the folders in it (Tarjan). */
function stronglyConnected(graph: Map<string, Map<string, string>>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    indexOf.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
      }
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return components;
}

/** One cycle through `start` inside its component, each step named with a file that makes it. */
function cycleThrough(start: string, members: Set<string>, graph: Map<string, Map<string, string>>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        path.push(start);
        return path.slice(0, -1).map((from, i) => `${from} → ${path[i + 1]} (${graph.get(from)!.get(path[i + 1])})`);
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [];
}

function cyclesOf(graph: Map<string, Map<string, string>>): string[] {
  return stronglyConnected(graph).map((component) => {
    const steps = cycleThrough(component[0], new Set(component), graph);
    return `folders ${component.join(', ')} form a cycle, e.g.\n  ${steps.join('\n  ')}`;
  });
}

describe('folders under app/src/', () => {
  test('import each other without cycles', () => {
    expect(cyclesOf(folderGraph(APP))).toEqual([]);
  });

  test('the graph is read from the sources (a known edge is found)', () => {
    expect(folderGraph(APP).get('ui')?.has('plan')).toBe(true);
  });
});

describe('folders under server/', () => {
  test('import each other without cycles', () => {
    expect(cyclesOf(folderGraph())).toEqual([]);
  });

  test('the graph is read from the sources (a known edge is found)', () => {
    expect(folderGraph().get('rest')?.has('store')).toBe(true);
  });
});
