// The neutral shape every interchange format is written from and read into. Exporters turn the project's labels
// into `LabeledImage`s (one per image, in image-id order, streamed); importers parse COCO / VOC / YOLO / CSV into
// `ImportItem`s, which are checked against the project as a whole before anything is written.
//
// Coordinates: always [x1, y1, x2, y2] in pixels of the upright image (after EXIF orientation), x2/y2 exclusive,
// which is the frame ingest measured the image in (ImageRecord.width/height) and the frame labelers drew in.
// Each format's own convention (COCO [x, y, w, h], YOLO normalised centre, VOC 1-based corners, origin CSV t-l-b-r) is
// converted in exactly one place, box-formats.ts, which exporters and importers share.

import type { Box } from '../model.js';

/** One labeled box, in upright-image pixels. */
export interface LabeledBox {
  box: Box;
  classIndex: number;
  /** Per-class confidences for box samples labeled with confidence levels (project class order). */
  confidences?: number[];
  /** Model score for proposals. */
  score?: number;
  ambiguous?: boolean;
  labelerId?: string;
  at?: string;
  /** The Winnow sample the box came from (box samples), for traceability in exports. */
  sampleId?: string;
}

/** One image with everything labeled on it, as an exporter sees it. */
export interface LabeledImage {
  imageId: string;
  /** Path under the project's upload folder, '/'-separated, e.g. `JPEGImages/BloodImage_00007.jpg`. */
  file: string;
  /** Object key of the original in the bucket (to copy the file into archives). */
  key: string;
  /** Upright size: the frame every box refers to. */
  width: number;
  height: number;
  /** Image-level label (the whole-image sample), absent when that sample is unlabeled. */
  label?: {
    confidences: number[];
    ambiguous: boolean;
    labelerId: string;
    at: string;
    sampleId: string;
  };
  /** Boxes labeled on this image: box-review boxes of the image sample and labeled box samples. */
  boxes: LabeledBox[];
}

/** Which labels an export includes. */
export interface ExportFilter {
  /** 'labeled' (default): only images with at least one label; 'all': every ready image, labeled or not. */
  include: 'all' | 'labeled';
  /** Only labels written by this labeler. */
  labelerId?: string;
  /** Leave ambiguous labels out. */
  excludeAmbiguous?: boolean;
  /** Also export auto-labels (labels the model wrote, `source: 'model'`); off by default: human labels only. */
  includeModelLabels?: boolean;
}

/** One image's annotations as a format file states them, before they are matched against the project. */
export interface ImportItem {
  /** Where this came from, for the per-row report, e.g. `annotations_coco.json images[3]` or `Annotations/x.xml`. */
  source: string;
  /** File name as written in the annotation: a path relative to the dataset root, or a bare file name. */
  file: string;
  /** The annotation names the image without its extension (YOLO label files): matched on the name without it. */
  extensionUnknown?: boolean;
  /** Size the annotation file claims, checked against the image Winnow measured. */
  width?: number;
  height?: number;
  /** Image-level classes with their confidence (classification formats). */
  classes?: { name: string; confidence: number }[];
  ambiguous?: boolean;
  boxes: ImportBox[];
  /**
   * The file says the image was labeled and nothing is on it (a VOC file without objects, an empty YOLO label
   * file, a CSV label row with every confidence 0), as opposed to saying nothing about the image. Box-review
   * projects import it as a "no objects" label; multi-label projects as "none of the classes".
   */
  empty?: boolean;
  labelerId?: string;
  at?: string;
}

export interface ImportBox {
  /** Where this box came from, e.g. `annotations[17]`, `object 3`, `line 4`. */
  source: string;
  class: string;
  /** [x1, y1, x2, y2] in pixels, or fractions of the image size when `normalized` (YOLO). */
  box: Box;
  normalized?: boolean;
  score?: number;
}

/** One line of an import report: every row is named, with what was wrong or what will be done. */
export interface ImportReportRow {
  source: string;
  file: string;
  ok: boolean;
  /** What is wrong, in words a user can act on (absent when ok). */
  problem?: string;
  /** What the import does or did with this row, e.g. `3 boxes as labels`, `kept existing label`. */
  action?: string;
  /** Which kind of problem (absent when ok), for programs reading the report. */
  code?: ImportProblem;
  /** The project image the row matched (path under the project's upload folder). */
  image?: string;
}

export type ImportProblem =
  | 'unreadable' // the annotation itself cannot be read (syntax, missing field, not a number)
  | 'unknown_class'
  | 'outside_image'
  | 'empty_box' // zero or negative width or height
  | 'duplicate' // the same image twice in the annotations, or a name matching two images
  | 'missing_file' // not in the project
  | 'not_ingested' // uploaded, ingest has not finished
  | 'ingest_failed'
  | 'size_mismatch'
  | 'invalid_label' // confidences or flags the project does not allow
  | 'wrong_task'; // e.g. boxes for a project that classifies whole images without box samples there
