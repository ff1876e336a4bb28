// The shapes the web app receives from the HTTP API. Domain types come from the shared model (type-only import:
// nothing from functions/ ends up in the bundle); the rest are the API's response envelopes.

import type {
  Annotation,
  Box,
  BoxLabel,
  ImageStatus,
  LabelHead,
  Project,
  Sample,
  Suggestion,
  TaskType,
} from '../../../functions/domain/model.js';
import type { AutolabelPreview, AutolabelReport } from '../../../functions/domain/autolabel.js';
import type { NewProject as DomainNewProject } from '../../../functions/domain/projects.js';
import type { Ok, ProjectRoutes } from './serverTypes.js';

export type { AutolabelPreview, AutolabelReport };

/** What /next answers: samples handed to the labeler with their images and leases, and the model's state. */
export type NextResponse = Ok<ProjectRoutes['next']['$get']>;
type ServerSample = NextResponse['samples'][number];
/** The display image of a sample; `url` and `thumbUrl` are presigned and short-lived. */
export type ServedImage = NonNullable<ServerSample['image']>;
/** A sample handed to a labeler, with its image and the lease that reserves it. A sample whose image record is
 * missing comes without one (the server reports it on the image); the app cannot show it and leaves it out. */
export type Served = ServerSample & { image: ServedImage };
/** A sample the labeler labeled, as history and similarity searches list it (its image may be missing). */
export type HistoryItem = Ok<ProjectRoutes['history']['$get']>['items'][number];
export const hasImage = <T extends { image?: ServedImage }>(item: T): item is T & { image: ServedImage } => !!item.image;
/** An export job as the API reports it; `downloadUrl` is a short-lived link, present once it is done. */
export type ExportJob = Ok<ProjectRoutes['exports'][':exportId']['$get']>;
export type Progress = Ok<ProjectRoutes['progress']['$get']>;
export type { Annotation, Box, BoxLabel, ImageStatus, LabelHead, Project, Sample, Suggestion, TaskType };



export interface ModelStatus {
  /** 'untrained' | 'cold-start' | 'trained' (kept open: the active-learning API may add states). */
  state: string;
  message?: string;
}




/** The model's estimated accuracy from the audit stream (functions/domain/learning/audit.ts). */
export interface AccuracyEstimate {
  accuracy: number;
  /** 95% interval. */
  low: number;
  high: number;
  /** Audited labels it rests on. */
  n: number;
  perClass: { name: string; n: number; accuracy: number | null; low: number | null; high: number | null }[];
}

/** What the labeling view shows about the model, as the web app uses it (api.ts normalizes what the server sends). */
export interface Quality {
  /**
   * Per label on a served sample, oldest first: squared error of the probabilities shown with it, and whether the
   * top class was right. Served samples are the ones the model is least sure about: this is not its accuracy.
   */
  points: { mse: number; correct: boolean }[];
  runningMse: number[];
  runningError: number[];
  /** The accuracy estimate, once audited labels exist. */
  estimate?: AccuracyEstimate;
  /** Labels on served samples scored in total (the points may be only the most recent ones). */
  count?: number;
  /** Error rate over the most recent `window` served samples. */
  windowErrorRate?: number;
  window?: number;
  model?: ModelStatus;
}

/** What the create form sends: the domain's NewProject (functions/domain/projects.ts) with a name, without members or detection. */
export interface NewProject extends Omit<DomainNewProject, 'name' | 'members' | 'detection'> {
  name: string;
}

export interface LabelBody {
  version: number;
  requestId: string;
  confidences?: number[];
  classIndex?: number;
  ambiguous?: boolean;
  boxes?: BoxLabel[];
}

export interface UploadGrant {
  name: string;
  url: string;
  key: string;
}

/** One row of the owner's image list (gallery, ingest status). Fields beyond imageId are optional: the app shows
 * whatever the list provides. */
export interface ImageSummary {
  imageId: string;
  key: string;
  status: ImageStatus;
  reason?: string;
  thumbUrl?: string;
  width?: number;
  height?: number;
  sampleIds?: string[];
  label?: string;
}

/** A labeled sample the model disagrees with: the class it was given and the one the model predicts. */
export interface SuspectItem extends HistoryItem {
  given: { class: string; probability: number };
  predicted: { class: string; probability: number };
}

export type ExportFormat = 'coco' | 'voc' | 'yolo' | 'csv' | 'jsonl' | 'folders' | 'embeddings';

export interface ExportRequest {
  format: ExportFormat;
  include: 'labeled' | 'all';
  labelerId?: string;
  excludeAmbiguous: boolean;
  images: boolean;
}

