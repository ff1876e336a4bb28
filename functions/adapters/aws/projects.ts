// ProjectStore on DynamoDB: pk `projectId`; edits are conditional on the stored version.

import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionFailed } from '../../domain/errors.js';
import type { Project } from '../../domain/model.js';
import type { ProjectStore } from '../../domain/ports.js';
import { compareKeys } from '../keys.js';
import { plainCopy } from '../plain.js';
import { isConditionFailed, scanAll, withoutAttrs, type Item } from './dynamo.js';

const toProject = (item: Item) => withoutAttrs<Project>(item, ['projectId']);

export class DynamoProjectStore implements ProjectStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(project: Project): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...project, projectId: project.id },
          ConditionExpression: 'attribute_not_exists(projectId)',
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ConditionFailed(`project ${project.id} already exists`);
      throw err;
    }
  }

  async get(projectId: string): Promise<Project | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { projectId }, ConsistentRead: true }));
    return out.Item && toProject(out.Item);
  }

  /** Ordered by id (a scan has no useful order of its own). Projects are few. */
  async list(): Promise<Project[]> {
    const items = await scanAll(this.doc, { TableName: this.table, ConsistentRead: true });
    return items.map(toProject).sort((a, b) => compareKeys(a.id, b.id));
  }

  async update(project: Project, expectedVersion: number): Promise<Project> {
    const next: Project = { ...project, version: expectedVersion + 1 };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...next, projectId: next.id },
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw new ConditionFailed(`project ${project.id} is not at version ${expectedVersion}`);
      throw err;
    }
    return plainCopy(next);
  }

  async delete(projectId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { projectId } }));
  }
}
