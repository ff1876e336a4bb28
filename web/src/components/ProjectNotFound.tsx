// The one state for a project id the server does not know (or does not show this user): says so, once, with a way
// back. Views show it instead of their loading placeholders, which would otherwise wait forever.

import { hrefFor } from '../shared/router.js';

export function ProjectNotFound(props: { projectId: string }) {
  return (
    <main class="page not-found" data-testid="project-not-found">
      <h1>Project not found</h1>
      <p role="alert">
        There is no project “{props.projectId}” on this server, or you are not a member of it. Check the link, or ask
        the project’s owner to add you.
      </p>
      <p>
        <a class="button" href={hrefFor({ name: 'home' })}>
          ← Back to your projects
        </a>
      </p>
    </main>
  );
}
