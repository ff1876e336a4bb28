// Synthesizes the Winnow stack the way `cdk synth` does (same cdk.json context and feature flags), by default
// without bundling (no esbuild run) so a test file pays for one fast synth. Each test file calls this once, in
// beforeAll.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll } from 'vitest';
import { parseStageConfig, type StageConfig } from '../../../infra/config.js';
import { addNagChecks } from '../../../infra/nag.js';
import { PATHS } from '../../../infra/paths.js';
import { resolveSources } from '../../../infra/sources.js';
import { createWinnowStack } from '../../../infra/winnow-app.js';
import type { WinnowStack, WinnowSources } from '../../../infra/winnow-stack.js';

export const SITE_FIXTURE = join(PATHS.repoRoot, 'test/infra/fixtures/site');

export function cdkContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(PATHS.repoRoot, 'cdk.json'), 'utf8')).context;
}

export function stageConfig(stage: string): StageConfig {
  return parseStageConfig(cdkContext().stages, stage);
}

export interface SynthOptions {
  /** Stage from cdk.json. @default 'dev' */
  stage?: string;
  /** Replace some sources (e.g. no web build). Defaults: real entry points, the site fixture, the shared weights. */
  sources?: Partial<WinnowSources>;
  /** Register cdk-nag as `infra/app.ts` does. @default false */
  nag?: boolean;
  /** Run esbuild for the Node.js functions, as `cdk synth` does. @default false (faster) */
  bundle?: boolean;
  /** Cloud assembly folder. @default a new temporary folder */
  outdir?: string;
  /** Change stage settings before synthesis (e.g. pin an account and region). */
  configure?: (config: StageConfig) => StageConfig;
}

export interface Synthesized {
  app: App;
  stack: WinnowStack;
  template: Template;
  assembly: CloudAssembly;
  outdir: string;
  config: StageConfig;
  cleanup(): void;
}

export function synthWinnow(options: SynthOptions = {}): Synthesized {
  const stageName = options.stage ?? 'dev';
  const config = (options.configure ?? ((c) => c))(stageConfig(stageName));
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'winnow-cdk-'));
  const skipBundling = options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] };
  const app = new App({ outdir, context: { ...cdkContext(), ...skipBundling } });
  const stack = createWinnowStack(app, stageName, config, {
    ...resolveSources(config),
    webDist: SITE_FIXTURE,
    ...options.sources,
  });
  if (options.nag) addNagChecks(app);
  const assembly = app.synth();
  return {
    app,
    stack,
    assembly,
    outdir,
    config,
    template: Template.fromJSON(assembly.getStackByName(stack.stackName).template),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The CloudFormation logical id of a construct's main resource, to find it in the template. */
export function logicalId(stack: WinnowStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

export interface SynthesizedOnce extends Synthesized {
  /** The template's Resources. */
  readonly resources: Record<string, any>;
  /** The logical id of a function's role. */
  roleOf(fn: { role?: IConstruct }): string;
  /** The logical id of the data bucket. */
  bucket(): string;
}

/**
 * Synthesizes once for the test file (in beforeAll) and removes the assembly after (afterAll); call at the top level
 * of the file. What it returns reads the synthesized stack once the hook has run.
 */
export function synthOnce(options: SynthOptions = {}): SynthesizedOnce {
  let synthesized: Synthesized | undefined;
  let resources: Record<string, any> | undefined;
  beforeAll(() => {
    synthesized = synthWinnow(options);
    resources = synthesized.template.toJSON().Resources;
  });
  afterAll(() => synthesized?.cleanup());
  const get = (): Synthesized => {
    if (!synthesized) throw new Error('synthOnce: the stack is synthesized in beforeAll; read it in hooks and tests');
    return synthesized;
  };
  return {
    get app() {
      return get().app;
    },
    get stack() {
      return get().stack;
    },
    get template() {
      return get().template;
    },
    get assembly() {
      return get().assembly;
    },
    get outdir() {
      return get().outdir;
    },
    get config() {
      return get().config;
    },
    get resources() {
      get();
      return resources!;
    },
    cleanup: () => get().cleanup(),
    roleOf: (fn) => logicalId(get().stack, fn.role as never),
    bucket: () => logicalId(get().stack, get().stack.data.bucket),
  };
}
