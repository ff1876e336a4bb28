// Hash routes, so any static host (the local server, S3 behind CloudFront) serves every view from index.html
// without rewrite rules.

export type Route =
  | { name: 'home' }
  | { name: 'new-project' }
  | { name: 'label'; projectId: string }
  | { name: 'upload'; projectId: string }
  | { name: 'gallery'; projectId: string }
  | { name: 'settings'; projectId: string }
  | { name: 'export'; projectId: string }
  | { name: 'team'; projectId: string }
  | { name: 'audit'; projectId: string }
  | { name: 'models'; projectId: string }
  | { name: 'not-found'; path: string };

export type ProjectView = 'label' | 'upload' | 'gallery' | 'settings' | 'export' | 'team' | 'audit' | 'models';

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '') return { name: 'home' };
  if (path === '/projects/new') return { name: 'new-project' };
  const m = /^\/projects\/([^/]+)(?:\/(label|upload|gallery|settings|export|team|audit|models))?\/?$/.exec(path);
  if (m) {
    const projectId = decodeURIComponent(m[1]);
    const view = (m[2] ?? 'label') as ProjectView;
    return { name: view, projectId };
  }
  return { name: 'not-found', path };
}

export function hrefFor(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'new-project':
      return '#/projects/new';
    case 'label':
    case 'upload':
    case 'gallery':
    case 'settings':
    case 'export':
    case 'team':
    case 'audit':
    case 'models':
      return `#/projects/${encodeURIComponent(route.projectId)}/${route.name}`;
    case 'not-found':
      return '#/';
  }
}
