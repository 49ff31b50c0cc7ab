import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The shell walk-throughs of a Markdown page: its ```sh blocks, in page order. A block runs unless the line
 * before it is `<!-- not run: why -->` (a command that starts or stops a server, say); a block with a curl in it
 * always runs, so no curl sequence of the docs escapes its test.
 *
 * Each curl a reader runs is followed by what it answers, as a comment: `# → 201` (a status), optionally with
 * fragments in backticks that the answer's body contains: # → 200 `"total":1`. The test compares them with what
 * the server really answered, call by call.
 */
export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  run: boolean;
  /** The `# → …` comments in order. */
  expected: ExpectedAnswer[];
}

export interface ExpectedAnswer {
  line: number;
  status: number;
  contains: string[];
}

const FENCE = /^```(\w*)\s*$/;
const SHELL = new Set(['sh', 'bash', 'shell']);
const NOT_RUN = /^<!--\s*not run:.*-->\s*$/;
const MARKER = /#\s*→\s*(\d{3})\b(.*)$/;

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (!SHELL.has(open[1]!)) continue;
    const before = lines.slice(0, start).reverse().find((line) => line.trim() !== '');
    const code = body.join('\n');
    const expected = body.flatMap((text, n) => {
      const marker = MARKER.exec(text);
      if (!marker) return [];
      const contains = [...marker[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      return [{ line: start + 2 + n, status: Number(marker[1]), contains }];
    });
    blocks.push({ line: start + 1, code, run: /\bcurl\b/.test(code) || !NOT_RUN.test(before?.trim() ?? ''), expected });
  }
  return blocks;
}

export function docBlocks(projectRoot: string, page: string): ShellBlock[] {
  return shellBlocks(readFileSync(path.join(projectRoot, page), 'utf8'));
}

/** How many times a curl command is invoked in a block (words `curl` outside comments). */
export function curlCount(code: string): number {
  return code
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .reduce((sum, line) => sum + (line.match(/(^|[\s(|;&])curl\s/g)?.length ?? 0), 0);
}

/**
 * The bash prelude: stops at the first failing command, and wraps curl so that each call's status and body land
 * in `$WALK_DIR` (numbered in call order, across subshells) while the reader's output stays what curl prints.
 */
export const PRELUDE = String.raw`set -eo pipefail
echo 0 > "$WALK_DIR/count"
curl() {
  local n
  n=$(( $(cat "$WALK_DIR/count") + 1 ))
  echo "$n" > "$WALK_DIR/count"
  echo "$WALK_LINE" > "$WALK_DIR/line.$n"
  command curl -sS -w '%{stderr}%{http_code}' "$@" 2>"$WALK_DIR/status.$n" | tee "$WALK_DIR/body.$n"
}
`;
