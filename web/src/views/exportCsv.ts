// The CSV export needs the identity header, so it is fetched (not a plain link) and handed to the browser as a
// download.

import type { Api } from '../api.js';

export async function downloadExport(api: Api, projectId: string): Promise<void> {
  const blob = await api.exportCsv(projectId);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${projectId}-labels.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
