// The DynamoDB tables, provisioned from the same schema the adapters and the local emulators use.

import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  TABLE_SCHEMAS,
  type KeyAttr,
  type TableNames,
} from '../../functions/adapters/aws/schema.js';

export type TableKey = keyof TableNames;


export class Tables extends Construct {
  readonly projects: Table;
  readonly samples: Table;
  readonly annotations: Table;
  readonly labelers: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.projects = labelingTable(this, 'Projects', 'projects');
    this.samples = labelingTable(this, 'Samples', 'samples');
    this.annotations = labelingTable(this, 'Annotations', 'annotations');
    this.labelers = labelingTable(this, 'Labelers', 'labelers');
  }

  all(): Record<TableKey, Table> {
    return { projects: this.projects, samples: this.samples, annotations: this.annotations, labelers: this.labelers };
  }

  /** The generated table names, keyed as functions/adapters/aws/env.ts names their variables. */
  names(): Record<'projectsTable' | 'samplesTable' | 'annotationsTable' | 'labelersTable', string> {
    return {
      projectsTable: this.projects.tableName,
      samplesTable: this.samples.tableName,
      annotationsTable: this.annotations.tableName,
      labelersTable: this.labelers.tableName,
    };
  }
}

/** Labels are the product: tables survive stack deletion and cannot be deleted by accident. */
function labelingTable(scope: Construct, id: string, key: TableKey): Table {
  const schema = TABLE_SCHEMAS[key];
  const table = new Table(scope, id, {
    partitionKey: keyOf(schema.partitionKey),
    sortKey: schema.sortKey && keyOf(schema.sortKey),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of schema.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: keyOf(index.partitionKey),
      sortKey: index.sortKey && keyOf(index.sortKey),
      ...(index.include ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: index.include } : { projectionType: ProjectionType.ALL }),
    });
  }
  return table;
}

const ATTRIBUTE_TYPES: Record<KeyAttr['type'], AttributeType> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

function keyOf(attr: KeyAttr) {
  return { name: attr.name, type: ATTRIBUTE_TYPES[attr.type] };
}
