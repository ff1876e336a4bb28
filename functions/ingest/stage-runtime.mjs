// Copies the ingest image's run-time packages out of an installed node_modules: only the two native packages the
// bundled handler leaves external (sharp, onnxruntime-node), what they load at run time, and only the Linux
// binaries of one architecture. Everything else (the AWS SDK, zod, hono, ...) is inside the esbuild bundle, and
// nothing local-only (dynalite, s3rver, tsx, classic-level, solid-js) or for another platform reaches the image.
//
//   node functions/ingest/stage-runtime.mjs <node_modules> <destination node_modules> <x64|arm64>
//
// Used by functions/ingest/Dockerfile; test/infra/ingest-image.test.ts runs it on this checkout to check the copy
// list and to measure the image's size.

import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Packages left external by the bundle (see the Dockerfile's esbuild step). */
export const EXTERNAL_PACKAGES = ['sharp', 'onnxruntime-node'];

/** What the image's node_modules holds for an architecture. */
export function runtimePackages(arch) {
  return [
    'onnxruntime-node',
    'onnxruntime-common',
    'sharp',
    '@img/colour',
    'detect-libc',
    'semver',
    `@img/sharp-linux-${arch}`,
    `@img/sharp-libvips-linux-${arch}`,
  ];
}

/** onnxruntime-node ships every platform's binaries (~290 MB); keep only Linux on `arch`. */
const ONNX_BINARIES = 'onnxruntime-node/bin/napi-v6';

export function stageRuntime(from, to, arch) {
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`architecture must be x64 or arm64, not ${arch}`);
  for (const name of runtimePackages(arch)) {
    const source = join(from, name);
    if (!existsSync(join(source, 'package.json'))) {
      // npm may nest a dependency under its dependent (a version conflict at the top): copied with it below.
      if (EXTERNAL_PACKAGES.some((parent) => existsSync(join(from, parent, 'node_modules', name, 'package.json')))) continue;
      throw new Error(`${name} is not installed in ${from} (install for linux ${arch} first)`);
    }
    mkdirSync(join(to, name), { recursive: true });
    cpSync(source, join(to, name), { recursive: true, dereference: true });
  }
  for (const platform of readdirSync(join(to, ONNX_BINARIES))) {
    for (const cpu of readdirSync(join(to, ONNX_BINARIES, platform))) {
      if (platform !== 'linux' || cpu !== arch) rmSync(join(to, ONNX_BINARIES, platform, cpu), { recursive: true, force: true });
    }
    if (platform !== 'linux') rmSync(join(to, ONNX_BINARIES, platform), { recursive: true, force: true });
  }
  if (!existsSync(join(to, ONNX_BINARIES, 'linux', arch, 'onnxruntime_binding.node'))) {
    throw new Error(`onnxruntime-node has no linux/${arch} binary`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [from, to, arch] = process.argv.slice(2);
  if (!from || !to || !arch) {
    console.error('usage: node stage-runtime.mjs <node_modules> <destination> <x64|arm64>');
    process.exit(2);
  }
  stageRuntime(from, to, arch);
}
