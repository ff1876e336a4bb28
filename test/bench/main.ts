// `npm run bench -- <name> [args]`: runs `npm run bench:<name> -- args` (each bench keeps its own Node flags in
// package.json); with no name, lists the benchmarks.

import { spawn } from 'node:child_process';

const BENCHES: Record<string, string> = {
  ingest: 'images/s through the local stack per stage, vs. pure ONNX inference; peak RSS, Lambda memory, cold start',
  al: 'active learning: accuracy per label budget and labels-to-target for every strategy',
  audit: 'the accuracy estimate (audit stream) against the true test accuracy over simulated sessions: bias, interval coverage',
  rank: 'trainer: retrain + rescore time and peak memory on synthetic embeddings, 10k to 1M samples',
  api: 'API latency and throughput under load (next sample, annotate)',
  web: 'web app: time to first sample and key-press to next image in a real browser',
  export: 'exports of 100k synthetic samples in every format: rows/s, seconds, peak RSS of the exporting process',
  delete: 'deletion jobs on a 10k-image synthetic project in dynalite + s3rver: a selection, a labeler, the whole project',
  gallery: 'gallery filters on a 50k-sample synthetic project in dynalite: first page, rare filters walked to the end, no match, sorted, counts',
  chaos: 'labelers labeling while the server is SIGKILLed and restarted, an import killed and re-run: lost labels, double leases, duplicates, orphans',
};

const [name, ...rest] = process.argv.slice(2);

if (!name || name === '--help' || name === '-h') {
  console.log('usage: npm run bench -- <name> [args]\n');
  const width = Math.max(...Object.keys(BENCHES).map((n) => n.length));
  for (const [bench, what] of Object.entries(BENCHES)) console.log(`  ${bench.padEnd(width)}  ${what}`);
  console.log('\nexample: npm run bench -- ingest --limit 100');
  process.exit(0);
}
if (!(name in BENCHES)) {
  console.error(`unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const child = spawn(npm, ['run', '--silent', `bench:${name}`, '--', ...rest], { stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group; just wait for it to finish.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('error', (err) => {
  console.error(`could not start npm: ${err.message}`);
  process.exit(1);
});
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
