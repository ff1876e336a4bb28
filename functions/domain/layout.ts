// Where things live in the bucket. Originals are uploaded by users; everything else is derived by Winnow and can
// be rebuilt from the originals.

export const BUCKET_LAYOUT = {
  uploadsPrefix: 'uploads/',
  uploadKey: (projectId: string, name: string) => `uploads/${projectId}/${name}`,
  /** Thumbnails and display-size copies: `derived/<project>/<imageId>/<variant>.webp`. */
  derivedKey: (projectId: string, imageId: string, variant: 'thumb' | 'display') =>
    `derived/${projectId}/${imageId}/${variant}.webp`,
  /** Embedding shards for the trainer (see the vision pipeline). */
  embeddingsPrefix: (projectId: string) => `embeddings/${projectId}/`,
  exportsPrefix: (projectId: string) => `exports/${projectId}/`,
} as const;

/** Parses `uploads/<project>/<name...>`; undefined for keys outside the uploads prefix. */
export function parseUploadKey(key: string): { projectId: string; name: string } | undefined {
  const m = /^uploads\/([^/]+)\/(.+)$/.exec(key);
  return m ? { projectId: m[1], name: m[2] } : undefined;
}
