// The simulated labelers in a process of their own (see runLabelersApart): the load generator then neither competes
// with the API for its event loop nor shows up in its profile, as with real labelers on their own machines.
// Started by fork() with the options as JSON in argv[2]; says when the measured phase begins, answers with one IPC
// message and exits.

import { runLabelers, type LabelerOptions } from './api-labelers.js';

const opts = JSON.parse(process.argv[2]) as LabelerOptions;
let atMeasuring: NodeJS.CpuUsage | undefined;
const run = await runLabelers(opts, () => {
  atMeasuring = process.cpuUsage();
  process.send!({ kind: 'measuring' });
});
const cpu = process.cpuUsage(atMeasuring); // the measured phase's
process.send!({ kind: 'result', ...run, failures: [...run.failures], cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
