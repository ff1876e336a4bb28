const t = Date.now();
const { synthWinnow } = await import('/work/main/test/infra/support/synth.ts');
console.log('import', Date.now() - t);
for (const i of [1, 2, 3]) {
  const t0 = Date.now();
  const s = synthWinnow({ stage: 'dev' });
  console.log('synth', i, Date.now() - t0, 'ms');
  s.cleanup();
}
