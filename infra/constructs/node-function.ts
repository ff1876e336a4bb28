// A TypeScript Lambda bundled by esbuild (local devDependency, no Docker, no network): Node.js, ESM, source maps.
// Synthesis never runs `npm install`: a function that needs a native package (sharp) gets the copy installed in
// this checkout's node_modules, for Linux on the function's architecture (see `nativePackages`).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageRemovalPolicy } from './bucket-defaults.js';
import { FunctionIdentity } from './function-identity.js';
import { BUNDLE_TARGET, LAMBDA_NODE_RUNTIME } from './lambda-runtime.js';

export interface NodeFunctionProps {
  /** TypeScript module exporting `handler`. */
  readonly entry: string;
  /** Repository root: esbuild resolves `node_modules` and the lock file from here. */
  readonly projectRoot: string;
  readonly lockFile: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** @default - unreserved */
  readonly reservedConcurrency?: number;
  /** @default arm64 */
  readonly architecture?: 'arm64' | 'x86_64';
  /**
   * Native packages copied (not bundled, not installed) beside the bundle from this checkout's node_modules:
   * each entry is a package and the folders it needs at run time (its platform binaries for Linux on the
   * function's architecture). Synthesis fails, naming the missing folder, when one is not installed. @default none
   */
  readonly nativePackages?: { name: string; folders: string[] }[];
  /** Packages left out of the bundle because this function never loads them (lazy imports). @default - none */
  readonly unusedModules?: string[];
  readonly logRetention: RetentionDays;
  readonly removalPolicy: StageRemovalPolicy;
}

export class NodeFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly identity: FunctionIdentity;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.identity = new FunctionIdentity(this, 'Identity', {
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    const native = props.nativePackages ?? [];
    const folders = native.flatMap((p) => p.folders);
    for (const folder of folders) {
      if (!existsSync(join(props.projectRoot, 'node_modules', folder, 'package.json'))) {
        throw new Error(
          `${id}: node_modules/${folder} is not installed, and the function needs it at run time (no network at ` +
            `synth). Install it with \`npm install --no-save --os=linux --cpu=${props.architecture === 'x86_64' ? 'x64' : 'arm64'} ` +
            `${folder}\` (same version as package-lock.json), then synthesize again.`,
        );
      }
    }
    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: props.lockFile,
      description: props.description,
      runtime: LAMBDA_NODE_RUNTIME,
      architecture: props.architecture === 'x86_64' ? Architecture.X86_64 : Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.identity.role,
      logGroup: this.identity.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        minify: true,
        sourceMap: true,
        // Bundle the AWS SDK too: the version tested locally is the version that runs.
        externalModules: [...(props.unusedModules ?? []), ...native.map((p) => p.name)],
        commandHooks: folders.length
          ? {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (inputDir: string, outputDir: string) =>
                folders.map((f) => `mkdir -p "${join(outputDir, 'node_modules', f)}" && cp -R "${join(inputDir, 'node_modules', f)}/." "${join(outputDir, 'node_modules', f)}"`),
            }
          : undefined,
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call `require`; give the ESM bundle one.
        banner: "import { createRequire as __winnowCreateRequire } from 'node:module'; const require = __winnowCreateRequire(import.meta.url);",
      },
    });
  }
}
