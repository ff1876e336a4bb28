// What the labeling view's tests share: the view rendered against the in-memory HTTP fake as labeler "ann", and the
// keys, the image in view and the annotation writes they look at.
import { fireEvent, render, screen } from '@solidjs/testing-library';
import { createApi } from '../../web/src/api/api.js';
import { AppContext } from '../../web/src/shared/context.js';
import { LabelView } from '../../web/src/views/LabelView.js';
import { createFakeServer, type FakeServerOptions } from './fakeServer.js';

export function setup(options: FakeServerOptions = {}, projectId = 'flowers') {
  const server = createFakeServer(options);
  const api = createApi({ fetch: server.fetch, identity: () => ({ kind: 'user', name: 'ann' }), sleep: async () => {} });
  render(() => (
    <AppContext.Provider value={{ api, labeler: () => 'ann', setLabeler: () => {} }}>
      <LabelView projectId={projectId} />
    </AppContext.Provider>
  ));
  return { server };
}

export const press = (key: string, init: KeyboardEventInit = {}) =>
  fireEvent.keyDown(document.body, { key, code: /^[0-9]$/.test(key) ? `Digit${key}` : undefined, ...init });

export const shownSample = () => screen.getByTestId('sample-image').getAttribute('data-sample-id');

export const annotations = (server: ReturnType<typeof createFakeServer>) => server.writes().filter((r) => r.path.endsWith('/annotations'));
