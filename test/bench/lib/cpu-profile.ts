// A CPU profile of one phase of a bench (not the whole process, as `node --cpu-prof` would give), for
// Chrome DevTools or any .cpuprofile viewer.

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { CpuProfile } from './profile-summary.js';

export async function startCpuProfile(): Promise<{ stop(file: string): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    stop: async (file) => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(file, JSON.stringify(profile));
      return profile as CpuProfile;
    },
  };
}
