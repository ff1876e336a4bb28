// The app shell: hash routing, the labeler's identity, and the services every view shares. Owner views are
// lazy chunks so the labeling path stays small.

import { createSignal, lazy, Match, onCleanup, onMount, Show, Suspense, Switch, type JSX } from 'solid-js';
import { createAccount } from './account/account.js';
import { createApi, type Api, type FetchLike } from './api/api.js';
import { AppContext, type AppServices } from './shared/context.js';
import { parseRoute, type ProjectView, type Route } from './shared/router.js';
import { retryAllRunners, unsavedCount } from './saving/saving.js';
import { Home } from './views/Home.js';
import { LabelView } from './views/LabelView.js';
import { SignIn } from './views/SignIn.js';

const CreateProject = lazy(() => import('./views/CreateProject.js').then((m) => ({ default: m.CreateProject })));
const EditProject = lazy(() => import('./views/CreateProject.js').then((m) => ({ default: m.EditProject })));
const UploadView = lazy(() => import('./views/UploadView.js').then((m) => ({ default: m.UploadView })));
const GalleryView = lazy(() => import('./views/GalleryView.js').then((m) => ({ default: m.GalleryView })));
const TeamView = lazy(() => import('./views/TeamView.js').then((m) => ({ default: m.TeamView })));
const AuditView = lazy(() => import('./views/AuditView.js').then((m) => ({ default: m.AuditView })));
const ExportView = lazy(() => import('./views/ExportView.js').then((m) => ({ default: m.ExportView })));
const ModelsView = lazy(() => import('./views/ModelsView.js').then((m) => ({ default: m.ModelsView })));

export interface AppProps {
  /** Tests pass a fake; the browser uses its own fetch. */
  fetch?: FetchLike;
  api?: Api;
}

export function App(props: AppProps) {
  const doFetch: FetchLike = props.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const account = createAccount(doFetch);
  const labeler = account.labeler;
  // The one API client: it sends whatever identity the account holds and reports every 401 back to it.
  const api =
    props.api ??
    createApi({ fetch: doFetch, baseUrl: account.apiUrl, identity: account.identity, onUnauthorized: account.unauthorized });
  const services: AppServices = {
    api,
    labeler,
    setLabeler: account.setLabelerName,
    get signOut() {
      return account.state().status === 'signed-in' ? account.signOut : undefined;
    },
  };

  const [route, setRoute] = createSignal<Route>(parseRoute(location.hash));
  onMount(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    // Closing the tab with labels the server has not acknowledged would lose them (they are also kept in
    // localStorage, but only this tab resends them): ask first.
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (unsavedCount() === 0) return;
      e.preventDefault();
      e.returnValue = '';
    };
    const onOnline = () => retryAllRunners();
    addEventListener('hashchange', onHash);
    addEventListener('beforeunload', onBeforeUnload);
    addEventListener('online', onOnline);
    onCleanup(() => {
      removeEventListener('hashchange', onHash);
      removeEventListener('beforeunload', onBeforeUnload);
      removeEventListener('online', onOnline);
    });
  });

  return (
    <AppContext.Provider value={services}>
      <Switch>
        <Match when={account.state().status === 'starting'}>
          <p class="muted page-loading">Loading…</p>
        </Match>
        <Match when={account.state().status === 'unreachable'}>
          <main class="home">
            <h1>Winnow</h1>
            <div class="error" role="alert">
              <p>{(account.state() as { message: string }).message}</p>
              <button type="button" onClick={() => void account.retry()}>
                Try again
              </button>
            </div>
          </main>
        </Match>
        <Match when={signInWith(account.state())} keyed>
          {(s) => <SignIn method={s.method} reason={s.reason} fetch={doFetch} onSignedIn={account.signedIn} />}
        </Match>
        <Match when={true}>
          <Routes route={route()} labeler={labeler()} />
        </Match>
      </Switch>
    </AppContext.Provider>
  );
}

function signInWith(state: ReturnType<ReturnType<typeof createAccount>['state']>) {
  return state.status === 'signed-out' ? state : false;
}

function Routes(props: { route: Route; labeler: string }) {
  const route = () => props.route;
  return (
    <>
      <Show when={props.labeler || route().name === 'home'} fallback={<Home />}>
        <Switch fallback={<NotFound />}>
          <Match when={route().name === 'home'}>
            <Home />
          </Match>
          <Match when={route().name === 'new-project'}>
            <Lazy>
              <CreateProject />
            </Lazy>
          </Match>
          <Match when={projectRoute(route(), 'label')} keyed>
            {(id) => <LabelView projectId={id} />}
          </Match>
          <Match when={projectRoute(route(), 'upload')} keyed>
            {(id) => (
              <Lazy>
                <UploadView projectId={id} />
              </Lazy>
            )}
          </Match>
          <Match when={projectRoute(route(), 'gallery')} keyed>
            {(id) => (
              <Lazy>
                <GalleryView projectId={id} />
              </Lazy>
            )}
          </Match>
          <Match when={projectRoute(route(), 'settings')} keyed>
            {(id) => (
              <Lazy>
                <EditProject projectId={id} />
              </Lazy>
            )}
          </Match>
          <Match when={projectRoute(route(), 'export')} keyed>
            {(id) => (
              <Lazy>
                <ExportView projectId={id} />
              </Lazy>
            )}
          </Match>
          <Match when={projectRoute(route(), 'team')} keyed>
            {(id) => (
              <Lazy>
                <TeamView projectId={id} />
              </Lazy>
            )}
          </Match>
          <Match when={projectRoute(route(), 'models')} keyed>
            {(id) => (
              <Lazy>
                <ModelsView projectId={id} />
              </Lazy>
            )}
          </Match>
          <Match when={projectRoute(route(), 'audit')} keyed>
            {(id) => (
              <Lazy>
                <AuditView projectId={id} />
              </Lazy>
            )}
          </Match>
        </Switch>
      </Show>
    </>
  );
}

/** The project id when the route is that project view (keyed: a different project mounts a fresh view). */
function projectRoute(route: Route, name: ProjectView): string | false {
  return route.name === name ? route.projectId : false;
}

function Lazy(props: { children: JSX.Element }) {
  return <Suspense fallback={<p class="muted page-loading">Loading…</p>}>{props.children}</Suspense>;
}

function NotFound() {
  return (
    <main class="home">
      <h1>Not found</h1>
      <p>
        <a href="#/">Back to projects</a>
      </p>
    </main>
  );
}
