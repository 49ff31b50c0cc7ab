#!/usr/bin/env node
/**
 * `npm run profiles`: compiles the FSH sources under profiles/input/fsh with SUSHI, offline.
 *
 * SUSHI loads FHIR's core definitions as the package hl7.fhir.r4.core#4.0.1 from a FHIR package cache, and
 * downloads it from the FHIR package registry when it is missing; that registry is out of reach here (only the
 * npm registry is). The definitions themselves reach us through npm anyway, inside hl7.fhir.r4.examples@4.0.1
 * (a devDependency), so this script assembles the cache entry from them first:
 *
 *   dist/fhir-home/.fhir/packages/hl7.fhir.r4.core#4.0.1/package/   the definition files, hard-linked
 *                                                                  package.json, .index.json (generated)
 *
 * SUSHI's command line has no cache option: it takes `os.homedir()/.fhir/packages`, and Node's homedir is
 * $HOME, so SUSHI runs with HOME=dist/fhir-home (its own process only; the user's ~/.fhir is never touched).
 *
 * After SUSHI succeeds, the guide is written where the server reads it (conformance/profiles/, committed): the
 * definitions (StructureDefinition, ValueSet, CodeSystem, ImplementationGuide) at the top, the example instances in
 * examples/, each file byte for byte as SUSHI wrote it (SUSHI stamps no date: the same FSH gives the same bytes),
 * and any file there that this build did not write is removed. test/conformance/guide-current.test.ts runs this
 * script into a temporary folder and compares, so an .fsh changed without `npm run profiles` fails the tests.
 *
 * Options: --no-snapshot (differentials only; faster; the guide is then not written, since the server needs
 * snapshots), --out <dir> (SUSHI writes <dir>/fsh-generated/, default profiles/), --guide <dir> (default
 * conformance/profiles); any other argument goes to SUSHI.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const profilesDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(profilesDir, '..');
const require = createRequire(import.meta.url);

const fhirHome = path.join(root, 'dist', 'fhir-home');
const GUIDE_DIR = path.join(root, 'conformance', 'profiles');
/** The conformance resources of the guide; everything else SUSHI writes is an example instance. */
const GUIDE_TYPES = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem', 'ImplementationGuide']);
const corePackage = path.join(fhirHome, '.fhir', 'packages', 'hl7.fhir.r4.core#4.0.1', 'package');

/** The resource types that make up a core package; the examples package's other files are examples. */
const DEFINITION_TYPES = new Set([
  'StructureDefinition',
  'ValueSet',
  'CodeSystem',
  'ConceptMap',
  'SearchParameter',
  'OperationDefinition',
  'CapabilityStatement',
  'CompartmentDefinition',
  'NamingSystem',
]);

function examplesDir() {
  return path.dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
}

/** Hard links cost nothing; a copy is the fallback across file systems. Symlinks would not do: the loader skips them. */
function place(from, to) {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

function assembleCore() {
  const source = examplesDir();
  const sourceJson = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8'));
  const stamp = path.join(corePackage, '.assembled-from');
  const wanted = `${sourceJson.name}@${sourceJson.version}`;
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) return { reused: true, count: 0 };

  fs.rmSync(path.dirname(corePackage), { recursive: true, force: true });
  fs.mkdirSync(corePackage, { recursive: true });
  const files = [];
  for (const name of fs.readdirSync(source).sort()) {
    if (!name.endsWith('.json') || !DEFINITION_TYPES.has(name.split('-')[0])) continue;
    const resource = JSON.parse(fs.readFileSync(path.join(source, name), 'utf8'));
    // The file name's prefix is a hint; the resource itself decides.
    if (!DEFINITION_TYPES.has(resource.resourceType)) continue;
    place(path.join(source, name), path.join(corePackage, name));
    const entry = { filename: name, resourceType: resource.resourceType, id: resource.id };
    for (const key of ['url', 'version', 'kind', 'type']) if (typeof resource[key] === 'string') entry[key] = resource[key];
    files.push(entry);
  }
  // The core package's manifest: name and version are what the loader checks; the rest describes it honestly.
  const manifest = {
    name: 'hl7.fhir.r4.core',
    version: '4.0.1',
    'tools-version': 3,
    type: 'Core',
    license: 'CC0-1.0',
    canonical: 'http://hl7.org/fhir',
    url: 'http://hl7.org/fhir/R4',
    title: 'FHIR R4 core definitions',
    description: `Assembled by profiles/build.mjs from the definition files of ${wanted}`,
    fhirVersions: ['4.0.1'],
    dependencies: {},
    author: 'HL7 Inc',
  };
  fs.writeFileSync(path.join(corePackage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  fs.writeFileSync(path.join(corePackage, '.index.json'), JSON.stringify({ 'index-version': 1, files }, null, 1) + '\n');
  fs.writeFileSync(stamp, wanted);
  return { reused: false, count: files.length };
}

/**
 * Copies SUSHI's resources into the guide folder: definitions at the top, examples in examples/. Files already
 * there with the same bytes are left alone; files no longer produced are removed (only .json files, so a README
 * or anything else put there by hand survives).
 */
function writeGuide(resourcesDir, guideDir) {
  const wanted = new Map();
  for (const name of fs.readdirSync(resourcesDir).sort()) {
    if (!name.endsWith('.json')) continue;
    const bytes = fs.readFileSync(path.join(resourcesDir, name));
    const { resourceType } = JSON.parse(bytes.toString('utf8'));
    wanted.set(GUIDE_TYPES.has(resourceType) ? name : path.join('examples', name), bytes);
  }
  let written = 0;
  let removed = 0;
  for (const sub of ['', 'examples']) {
    const dir = path.join(guideDir, sub);
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir)) {
      const relative = path.join(sub, name);
      if (name.endsWith('.json') && !wanted.has(relative)) {
        fs.rmSync(path.join(dir, name));
        removed++;
      }
    }
  }
  for (const [relative, bytes] of wanted) {
    const target = path.join(guideDir, relative);
    if (fs.existsSync(target) && fs.readFileSync(target).equals(bytes)) continue;
    fs.writeFileSync(target, bytes);
    written++;
  }
  return { count: wanted.size, written, removed };
}

/** `--name value` taken out of the arguments: its value, or the fallback. */
function option(args, name, fallback) {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const [, value] = args.splice(at, 2);
  if (!value) throw new Error(`${name} needs a folder`);
  return path.resolve(value);
}

function runSushi(args) {
  const cli = path.join(path.dirname(require.resolve('fsh-sushi/package.json')), 'dist', 'app.js');
  // SUSHI also asks npm for its latest version (a notice only); npm keeps its usual cache, not one under dist/.
  const env = {
    ...process.env,
    HOME: fhirHome,
    npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
    npm_config_update_notifier: 'false',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'build', profilesDir, ...args], { env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

const started = Date.now();
const argv = process.argv.slice(2);
// SUSHI writes into <out>/fsh-generated/; its default <out> is the project folder.
const out = option(argv, '--out', profilesDir);
const guideDir = option(argv, '--guide', GUIDE_DIR);
const snapshot = !argv.includes('--no-snapshot');
const sushiArgs = argv.filter((arg) => arg !== '--no-snapshot');
if (snapshot) sushiArgs.push('--snapshot');
sushiArgs.push('--out', out);

const core = assembleCore();
console.log(
  core.reused
    ? `hl7.fhir.r4.core#4.0.1: cache entry already assembled (${corePackage})`
    : `hl7.fhir.r4.core#4.0.1: assembled ${core.count} definitions in ${corePackage} (${Date.now() - started} ms)`,
);
const code = await runSushi(sushiArgs);
console.log(`npm run profiles: SUSHI exited with ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (code !== 0) process.exit(1);
if (!snapshot) {
  console.log(`--no-snapshot: ${path.relative(root, guideDir) || guideDir} left as it was (the server needs snapshots)`);
  process.exit(0);
}
const guide = writeGuide(path.join(out, 'fsh-generated', 'resources'), guideDir);
console.log(
  `guide: ${guide.count} files in ${path.relative(root, guideDir) || guideDir} (${guide.written} written, ${guide.removed} removed)`,
);
