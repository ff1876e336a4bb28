// The tables the stack deploys serve the storage adapters: each DynamoDB table of the synthesized template (its key
// schema, attribute types and global secondary indexes, as CloudFormation would create it) is created on dynalite,
// and the whole storage contract runs against those tables.

import { CreateTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DEFAULT_TABLE_NAMES, TABLE_SCHEMAS } from '../../functions/adapters/aws/schema.js';
import { startDynalite } from '../../functions/local/emulators.js';
import { startAwsTarget } from '../contract/aws-target.js';
import { storeContract } from '../contract/store-contract.js';
import { logicalId, synthWinnow } from './support/synth.js';

type TableKey = keyof typeof TABLE_SCHEMAS;

/** CreateTable inputs for the template's tables, under the names the contract uses. */
function deployedTables(): Record<TableKey, CreateTableCommandInput> {
  const s = synthWinnow({ stage: 'dev' });
  try {
    const resources = s.template.toJSON().Resources;
    const tables = s.stack.tables.all();
    const out = {} as Record<TableKey, CreateTableCommandInput>;
    for (const key of Object.keys(TABLE_SCHEMAS) as TableKey[]) {
      const p = resources[logicalId(s.stack, tables[key])].Properties;
      out[key] = {
        TableName: DEFAULT_TABLE_NAMES[key],
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: p.BillingMode,
        ...(p.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
      };
    }
    return out;
  } finally {
    s.cleanup();
  }
}

storeContract('AWS adapters on the tables the stack deploys (dynalite + s3rver)', () =>
  startAwsTarget(startDynalite, async (stores) => {
    const tables = deployedTables();
    await Promise.all(Object.values(tables).map((input) => stores.clients.dynamodb.send(new CreateTableCommand(input))));
  }),
);
