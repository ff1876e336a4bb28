// The ingest image's recipe, checked without Docker: the handler is bundled with the exact esbuild command of
// functions/ingest/Dockerfile, its node_modules staged by the Dockerfile's own script (functions/ingest/
// stage-runtime.mjs) from this checkout for linux x64, laid out as in the image (/var/task), and loaded the way
// Lambda loads it, with nothing else on disk to fall back on.

import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_NODE_RUNTIME } from '../../infra/constructs/lambda-runtime.js';
import { PATHS } from '../../infra/paths.js';
import { stageModelDir } from '../../infra/model-weights.js';
// @ts-expect-error plain ESM script without types
import { EXTERNAL_PACKAGES, runtimePackages, stageRuntime } from '../../functions/ingest/stage-runtime.mjs';
import { stageConfig } from './support/synth.js';

const dockerfile = readFileSync(join(PATHS.repoRoot, PATHS.ingestDockerfile), 'utf8');
const pkg = JSON.parse(readFileSync(join(PATHS.repoRoot, 'package.json'), 'utf8'));
let taskRoot: string;
let meta: { outputs: Record<string, { imports: { path: string; external?: boolean }[] }> };

/** Splits a shell command line into words (double and single quotes, backslash-newline continuations). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (const ch of line.replace(/\\\n/g, ' ')) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
}

/** The Dockerfile's instructions in order: comments and blank lines dropped, backslash continuations joined. */
function instructions(): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const line of dockerfile.split('\n')) {
    if (!pending && (/^\s*#/.test(line) || !line.trim())) continue;
    pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) continue;
    const [, keyword, args] = /^\s*(\w+)\s+([\s\S]*)$/.exec(pending)!;
    out.push({ keyword: keyword.toUpperCase(), args: args.trim() });
    pending = '';
  }
  return out;
}

/** Instructions per build stage (each FROM starts one; the ARGs before the first FROM are stage 0's). */
function stages(): Instruction[][] {
  const out: Instruction[][] = [[]];
  for (const i of instructions()) {
    if (i.keyword === 'FROM') out.push([]);
    out[out.length - 1].push(i);
  }
  return out;
}

/** The shell commands of a stage's RUN instructions, as words (`a && b` is two commands; a quoted && is not). */
function runCommands(stage: Instruction[]): string[][] {
  const commands: string[][] = [];
  for (const run of stage.filter((i) => i.keyword === 'RUN')) {
    commands.push([]);
    for (const word of shellWords(run.args)) {
      if (word === '&&') commands.push([]);
      else commands[commands.length - 1].push(word);
    }
  }
  return commands;
}

const buildStage = () => stages().find((s) => / AS build$/i.test(s[0]?.args ?? ''))!;
const finalStage = () => stages()[stages().length - 1];

/** The esbuild arguments of the Dockerfile's build stage. */
function dockerEsbuildArgs(): string[] {
  const run = runCommands(buildStage()).find((words) => words[0] === '/opt/esbuild/node_modules/.bin/esbuild');
  if (!run) throw new Error('no esbuild step in the Dockerfile');
  return run.slice(1);
}

/** CMD ["functions/ingest/lambda.handler"] -> module path and export name. */
function dockerHandler(): { module: string; exportName: string } {
  const [cmd] = JSON.parse(finalStage().find((i) => i.keyword === 'CMD')!.args) as string[];
  const dot = cmd.lastIndexOf('.');
  return { module: `${cmd.slice(0, dot)}.js`, exportName: cmd.slice(dot + 1) };
}

/** The image's final stage: its COPY instructions. */
function finalStageCopies(): string[] {
  return finalStage().filter((i) => i.keyword === 'COPY').map((i) => `COPY ${i.args}`);
}

/** A global ARG's default value (declared before the first FROM). */
const globalArg = (name: string) => stages()[0].find((i) => i.keyword === 'ARG' && i.args.startsWith(`${name}=`))?.args.slice(name.length + 1);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

beforeAll(() => {
  taskRoot = mkdtempSync(join(tmpdir(), 'winnow-ingest-image-'));
  const args = dockerEsbuildArgs().map((a) =>
    a.startsWith('--outfile=') ? `--outfile=${join(taskRoot, a.slice('--outfile=/out/'.length))}` : a,
  );
  const esbuild = join(PATHS.repoRoot, 'node_modules/.bin/esbuild');
  execFileSync(esbuild, [...args, `--metafile=${join(taskRoot, 'meta.json')}`, '--log-level=warning'], { cwd: PATHS.repoRoot });
  meta = JSON.parse(readFileSync(join(taskRoot, 'meta.json'), 'utf8'));
  rmSync(join(taskRoot, 'meta.json'));
  // The final stage: package.json (ESM), the staged node_modules, model manifests, the bundle.
  writeFileSync(join(taskRoot, 'package.json'), JSON.stringify({ type: pkg.type }));
  cpSync(join(PATHS.repoRoot, 'models'), join(taskRoot, 'models'), { recursive: true });
  stageRuntime(join(PATHS.repoRoot, 'node_modules'), join(taskRoot, 'node_modules'), 'x64');
});
afterAll(() => rmSync(taskRoot, { recursive: true, force: true }));

describe('ingest image', () => {
  it('uses the Lambda Node.js base image of the same version as the other functions', () => {
    const major = /^nodejs(\d+)\.x$/.exec(LAMBDA_NODE_RUNTIME.name)![1];
    expect(globalArg('NODE_IMAGE')).toBe(`public.ecr.aws/lambda/nodejs:${major}`);
    expect(buildStage()[0].args).toBe('${NODE_IMAGE} AS build');
    expect(finalStage()[0].args).toBe('${NODE_IMAGE}');
  });

  it('installs the locked production dependencies without install scripts (onnxruntime-node would download CUDA libraries)', () => {
    const install = runCommands(buildStage()).find((words) => words[0] === 'npm' && words[1] === 'ci');
    expect(install).toEqual(expect.arrayContaining(['--omit=dev', '--ignore-scripts']));
  });

  it('bundles with the esbuild version these tests bundle with', () => {
    const local = JSON.parse(readFileSync(join(PATHS.repoRoot, 'node_modules/esbuild/package.json'), 'utf8')).version;
    expect(globalArg('ESBUILD_VERSION')).toBe(local);
  });

  it('bundles every package except the two native ones, which the image stages', () => {
    const builtins = new Set(builtinModules);
    const external = new Set(
      Object.values(meta.outputs)
        .flatMap((o) => o.imports)
        .filter((i) => i.external && !i.path.startsWith('node:') && !builtins.has(i.path))
        .map((i) => (i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0])),
    );
    for (const name of external) expect(EXTERNAL_PACKAGES, name).toContain(name);
    for (const name of EXTERNAL_PACKAGES) expect(dockerEsbuildArgs()).toContain(`--external:${name}`);
  });

  it('copies into the image only the staged node_modules, the bundle, the manifests and the weights', () => {
    expect(finalStageCopies()).toEqual([
      'COPY package.json ./',
      'COPY --from=build /out/node_modules ./node_modules',
      'COPY models ./models',
      'COPY --from=build /out/functions ./functions',
      'COPY --from=model-weights / /opt/models/',
    ]);
    const stage = runCommands(buildStage()).find((words) => words[1] === 'functions/ingest/stage-runtime.mjs');
    expect(stage?.slice(0, 4)).toEqual(['node', 'functions/ingest/stage-runtime.mjs', 'node_modules', '/out/node_modules']);
    expect(stage).toHaveLength(5); // and the architecture
  });

  it('stages only sharp, onnxruntime and what they load, with Linux binaries of one architecture', () => {
    const top = readdirSync(join(taskRoot, 'node_modules')).flatMap((d) =>
      d.startsWith('@') ? readdirSync(join(taskRoot, 'node_modules', d)).map((n) => `${d}/${n}`) : [d],
    );
    expect(top.sort()).toEqual([...runtimePackages('x64')].sort());
    for (const local of ['dynalite', 's3rver', 'tsx', 'classic-level', 'solid-js', 'hono', '@aws-sdk/client-s3']) {
      expect(existsSync(join(taskRoot, 'node_modules', local)), local).toBe(false);
    }
    const binaries = listFiles(join(taskRoot, 'node_modules')).filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f));
    expect(binaries.length).toBeGreaterThan(0);
    for (const file of binaries) expect(file, file).toMatch(/linux[-/]x64/);
  });

  it('starts the way Lambda starts it, loads the models from the staged onnxruntime, and answers an empty batch', async () => {
    const { module, exportName } = dockerHandler();
    const config = stageConfig('dev');
    const lambdaEnv = {
      WINNOW_PROJECTS_TABLE: 'projects',
      WINNOW_SAMPLES_TABLE: 'samples',
      WINNOW_ANNOTATIONS_TABLE: 'annotations',
      WINNOW_LABELERS_TABLE: 'labelers',
      WINNOW_BUCKET: 'bucket',
      WINNOW_TRAINER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/trainer',
      WINNOW_EXPORT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/exports',
      WINNOW_INGEST_CONCURRENCY: '4',
      AWS_REGION: 'eu-west-1',
      // What the image's ENV sets (the manifests beside the bundle, the baked-in weights).
      WINNOW_MANIFESTS: join(taskRoot, 'models'),
      WINNOW_MODELS: stageModelDir(config),
    };
    const script = join(taskRoot, 'invoke.mjs');
    writeFileSync(script, `const m = await import(${JSON.stringify(join(taskRoot, module))});\n` +
      `const out = await m[${JSON.stringify(exportName)}]({ Records: [] });\nconsole.log(JSON.stringify(out));\nprocess.exit(0);\n`);
    // A separate process whose only node_modules is the staged one (nothing resolves from the checkout).
    const out = execFileSync(process.execPath, ['--enable-source-maps', script], {
      cwd: taskRoot,
      env: { PATH: process.env.PATH, ...lambdaEnv },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ batchItemFailures: [] });
  });
});
