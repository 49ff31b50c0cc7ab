import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listeningAddresses } from './support/listening.js';
import { freePort, PROJECT_ROOT } from './support/server-process.js';

/**
 * The Dockerfile's runtime stage, checked without a Docker engine (none runs here): the test reads the Dockerfile,
 * assembles in a temporary folder exactly the files that stage would hold, installs the production dependencies
 * there with the stage's own `npm ci`, and starts the server from there with the image's environment. A file the
 * stage forgets to copy makes the server fail to start, and this test with it.
 *
 * Where it differs from the image, and why: `COPY --from=build /app/dist` takes this worktree's `dist/`, which
 * jest's global setup built with the same `npm run build` the build stage runs; the Node and npm are this
 * machine's, not the base image's; PORT and DATA_DIR are replaced by a free port and a temporary folder (the
 * image's /data and 8080 may be taken here), and `mkdir -p /data && chown` is therefore not run; `npm cache clean`
 * only shrinks the image; the CMD `npm start --ignore-scripts` is checked to mean `node dist/server/main.js`,
 * which is what is started.
 */

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name?: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages: instructions with continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (!pending && /^\s*(#|$)/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      logical.push(pending + line);
      pending = '';
    }
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile line not understood: ${line}`);
    const instruction = { keyword: match[1].toUpperCase(), args: match[2].trim() };
    if (instruction.keyword === 'FROM') stages.push({ name: /\bAS\s+(\S+)$/i.exec(instruction.args)?.[1], instructions: [] });
    else if (stages.length) stages[stages.length - 1].instructions.push(instruction);
  }
  return stages;
}

/** `.dockerignore` entries (this project uses plain paths only; a pattern would need a real matcher). */
function dockerIgnored(): (relative: string) => boolean {
  const entries = readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  for (const entry of entries) if (/[*?[!]/.test(entry)) throw new Error(`.dockerignore pattern ${entry}: teach this test to match it`);
  return (relative) => entries.some((entry) => relative === entry || relative.startsWith(`${entry}/`));
}

/** Copies `source` (file or folder) as COPY does: a folder's contents into `target`, a file to `target`. */
function copyLikeDocker(source: string, target: string, relative: string | undefined, ignored: (relative: string) => boolean): void {
  if (!existsSync(source)) throw new Error(`COPY source ${relative ?? source} does not exist`);
  cpSync(source, target, {
    recursive: true,
    filter: (from) => relative === undefined || !ignored(path.relative(PROJECT_ROOT, from).split(path.sep).join('/')),
  });
}

interface Assembled {
  env: Record<string, string>;
  cmd: string[];
}

/** Plays the runtime stage's instructions into `root` (the stage's WORKDIR). */
function assembleRuntimeStage(stages: Stage[], root: string): Assembled {
  const runtime = stages[stages.length - 1];
  const ignored = dockerIgnored();
  const env: Record<string, string> = {};
  let workdir: string | undefined;
  let cmd: string[] | undefined;
  const inStage = (destination: string): string => {
    if (!workdir) throw new Error('a COPY before WORKDIR');
    const absolute = path.posix.resolve(workdir, destination);
    if (absolute !== workdir && !absolute.startsWith(`${workdir}/`)) throw new Error(`COPY to ${absolute}, outside WORKDIR ${workdir}: teach this test where that goes`);
    return path.join(root, path.posix.relative(workdir, absolute));
  };
  for (const { keyword, args } of runtime.instructions) {
    switch (keyword) {
      case 'ENV':
        for (const pair of args.split(/\s+/)) {
          const [name, ...value] = pair.split('=');
          if (!value.length) throw new Error(`ENV ${args}: only NAME=value pairs are understood`);
          env[name] = value.join('=').replace(/^"(.*)"$/, '$1');
        }
        break;
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir ?? '/', args);
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        const from = words[0].startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
        if (words.some((word) => word.startsWith('--'))) throw new Error(`COPY ${args}: option not understood`);
        const destination = words.pop()!;
        const target = inStage(destination);
        if (words.length > 1 || destination.endsWith('/')) mkdirSync(target, { recursive: true });
        for (const source of words) {
          const into = words.length > 1 || destination.endsWith('/') ? path.join(target, path.basename(source)) : target;
          if (from === undefined) {
            copyLikeDocker(path.join(PROJECT_ROOT, source), into, source, ignored);
          } else {
            // The build stage: WORKDIR /app holding this project, built by `npm run build` (jest's global setup).
            const build = stages.find((stage) => stage.name === from);
            const buildDir = build?.instructions.find((instruction) => instruction.keyword === 'WORKDIR')?.args;
            if (!buildDir || !source.startsWith(`${buildDir}/`)) throw new Error(`COPY --from=${from} ${source}: not a path of the build stage's ${buildDir}`);
            copyLikeDocker(path.join(PROJECT_ROOT, source.slice(buildDir.length + 1)), into, undefined, ignored);
          }
        }
        break;
      }
      case 'RUN':
        for (const command of args.split('&&').map((part) => part.trim())) {
          const [program, ...rest] = command.split(/\s+/);
          if (program === 'npm' && rest[0] === 'ci') {
            // --prefer-offline: the machine's npm cache serves what it holds (the registry the rest).
            execFileSync('npm', [...rest, '--prefer-offline'], { cwd: root, stdio: 'pipe', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
          } else if (program === 'npm' && rest.join(' ') === 'cache clean --force') {
            // only makes the image smaller
          } else if ((program === 'mkdir' && rest.join(' ') === `-p ${env.DATA_DIR}`) || (program === 'chown' && rest[1] === env.DATA_DIR)) {
            // DATA_DIR is a temporary folder here
          } else {
            throw new Error(`RUN ${command}: teach this test what it does to the runtime's files`);
          }
        }
        break;
      case 'CMD':
        cmd = JSON.parse(args) as string[];
        break;
      case 'USER':
      case 'EXPOSE':
      case 'VOLUME':
      case 'HEALTHCHECK':
      case 'ARG':
      case 'LABEL':
        break;
      default:
        throw new Error(`${keyword} ${args}: teach this test what it does to the runtime's files`);
    }
  }
  if (!cmd) throw new Error('the runtime stage has no CMD');
  return { env, cmd };
}

describe('the Dockerfile', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ccp-image-'));
  const root = path.join(work, 'app');
  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    rmSync(work, { recursive: true, force: true });
  });

  it("runtime stage's files alone start the server with the image's environment; GET /fhir/metadata is a CapabilityStatement", async () => {
    // No node_modules above the folder, or a dependency the stage lacks could be found there.
    for (let dir = path.dirname(root); dir !== path.dirname(dir); dir = path.dirname(dir)) expect(existsSync(path.join(dir, 'node_modules'))).toBe(false);

    mkdirSync(root);
    const { env, cmd } = assembleRuntimeStage(parseDockerfile(readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8')), root);
    expect(env.NODE_ENV).toBe('production');
    expect(env).toHaveProperty('PORT');
    expect(env).toHaveProperty('DATA_DIR');
    // The server's default is loopback; a container must listen on its own interface to be reached through -p.
    expect(env.HOST).toBe('0.0.0.0');
    expect(cmd).toEqual(['npm', 'start', '--ignore-scripts']);
    const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe('node dist/server/main.js');
    // Production dependencies only: a development one (here TypeScript) is not installed.
    expect(statSync(path.join(root, 'node_modules', 'express')).isDirectory()).toBe(true);
    expect(existsSync(path.join(root, 'node_modules', 'typescript'))).toBe(false);

    const port = await freePort();
    const dataDir = path.join(work, 'data');
    let output = '';
    server = spawn(process.execPath, ['dist/server/main.js'], {
      cwd: root,
      // The image's environment and nothing of this machine's but PATH and HOME.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port), DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const metadata = await firstAnswer(server, `http://127.0.0.1:${port}/fhir/metadata`, () => output);
    expect(metadata.status).toBe(200);
    const capability = (await metadata.json()) as { resourceType: string; fhirVersion: string };
    expect(capability.resourceType).toBe('CapabilityStatement');
    expect(capability.fhirVersion).toBe('4.0.1');
    expect(listeningAddresses(port)).toEqual(['0.0.0.0']);
    expect(output).toContain(`FHIR server listening on every interface (HOST=0.0.0.0), http://localhost:${port}/fhir`);
    // The web app came with dist/ (the build stage builds it with the server).
    const app = await fetch(`http://127.0.0.1:${port}/app/`);
    expect([app.status, app.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await app.text()).toContain('<script type="module" crossorigin src="/app/assets/');

    server.kill('SIGTERM');
    const code = await new Promise((resolve) => (server!.exitCode !== null ? resolve(server!.exitCode) : server!.once('exit', (exit, signal) => resolve(exit ?? signal))));
    expect(code).toBe(0);
  }, 240_000);
});

/** The first HTTP answer from `url`; fails with the server's output if the server exits before it answers. */
async function firstAnswer(server: ChildProcess, url: string, output: () => string): Promise<Response> {
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the server exited (${server.exitCode ?? server.signalCode}) before it answered:\n${output()}`);
    try {
      return await fetch(url);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
