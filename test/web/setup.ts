// Shared by every web component test (vitest setupFiles of the `web` project): each test starts with empty
// browser storage, no hash route and no save runner left over from the previous one.
import { cleanup, configure } from '@solidjs/testing-library';
import { afterEach, beforeEach } from 'vitest';
import { resetSaveRunners } from '../../web/src/saving/saving.js';

// Waits end as soon as the screen matches; the longer limit only matters on a loaded CI machine.
configure({ asyncUtilTimeout: 5000 });

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  resetSaveRunners();
  location.hash = '';
});
afterEach(() => {
  cleanup();
  resetSaveRunners();
});
