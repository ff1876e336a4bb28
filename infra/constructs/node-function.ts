// A TypeScript Lambda bundled by esbuild (local devDependency, no Docker): Node.js on arm64, ESM, source maps.

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
  /**
   * Packages with native binaries, installed beside the bundle for Linux arm64 (from the lock file's versions)
   * instead of bundled. @default - none
   */
  readonly nativeModules?: string[];
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
    this.fn = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: props.lockFile,
      description: props.description,
      runtime: LAMBDA_NODE_RUNTIME,
      architecture: Architecture.ARM_64,
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
        externalModules: props.unusedModules ?? [],
        nodeModules: props.nativeModules,
        // npm picks a native package's optional binaries by these, so the install matches Lambda, not the build host.
        environment: props.nativeModules?.length ? { npm_config_os: 'linux', npm_config_cpu: 'arm64', npm_config_libc: 'glibc' } : undefined,
        mainFields: ['module', 'main'],
        // Some CommonJS dependencies call `require`; give the ESM bundle one.
        banner: "import { createRequire as __winnowCreateRequire } from 'node:module'; const require = __winnowCreateRequire(import.meta.url);",
      },
    });
  }
}
