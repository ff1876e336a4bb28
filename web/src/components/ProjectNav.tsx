// Navigation between one project's views.

import { hrefFor, type ProjectView } from '../shared/router.js';

export function ProjectNav(props: { projectId: string; current: ProjectView }) {
  const link = (name: ProjectView, text: string) => (
    <a href={hrefFor({ name, projectId: props.projectId })} aria-current={props.current === name ? 'page' : undefined}>
      {text}
    </a>
  );
  return (
    <nav class="project-nav" aria-label="Project">
      <a href={hrefFor({ name: 'home' })}>← Projects</a>
      <span class="project-id">{props.projectId}</span>
      {link('label', 'Label')}
      {link('upload', 'Upload')}
      {link('gallery', 'Gallery')}
      {link('settings', 'Settings')}
      {link('export', 'Export')}
      {link('team', 'Team')}
      {link('audit', 'Audit log')}
      {link('models', 'Models')}
    </nav>
  );
}
