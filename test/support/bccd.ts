// Small real subsets of ../shared/datasets/bccd (VOC XML + COCO JSON + JPEGs), laid out in a temp folder as the
// dataset is (Annotations/, JPEGImages/, annotations_coco.json), for import and round-trip tests.

import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SHARED } from './paths.js';

export const BCCD = path.join(SHARED, 'datasets/bccd');
export const BCCD_CLASSES = ['RBC', 'WBC', 'Platelets'];

/** The first `count` image ids (e.g. `BloodImage_00000`) in name order, leaving out the two with zero-size boxes. */
export async function bccdIds(count: number, skip = 0): Promise<string[]> {
  const ids = (await readdir(path.join(BCCD, 'Annotations'))).map((f) => f.replace(/\.xml$/, '')).sort();
  return ids.filter((id) => id !== 'BloodImage_00338' && id !== 'BloodImage_00343').slice(skip, skip + count);
}

/** A folder with the subset's JPEGs, VOC files and a COCO file reduced to the same images. */
export async function bccdSubset(dir: string, ids: string[]): Promise<string> {
  await mkdir(path.join(dir, 'Annotations'), { recursive: true });
  await mkdir(path.join(dir, 'JPEGImages'), { recursive: true });
  for (const id of ids) {
    await copyFile(path.join(BCCD, 'Annotations', `${id}.xml`), path.join(dir, 'Annotations', `${id}.xml`));
    await copyFile(path.join(BCCD, 'JPEGImages', `${id}.jpg`), path.join(dir, 'JPEGImages', `${id}.jpg`));
  }
  await writeFile(path.join(dir, 'annotations_coco.json'), JSON.stringify(await bccdCoco(ids)));
  return dir;
}

/** BCCD's COCO file with only these images and their annotations. */
export async function bccdCoco(ids: string[]) {
  const coco = JSON.parse(await readFile(path.join(BCCD, 'annotations_coco.json'), 'utf8'));
  const files = new Set(ids.map((id) => `JPEGImages/${id}.jpg`));
  const images = coco.images.filter((i: { file_name: string }) => files.has(i.file_name));
  const imageIds = new Set(images.map((i: { id: number }) => i.id));
  return { ...coco, images, annotations: coco.annotations.filter((a: { image_id: number }) => imageIds.has(a.image_id)) };
}
