import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { startEngines } from '../infra/local/engines.js';
import { ensureTable } from '../shared/aws/table.js';
import { meterCapacity } from './lib/dynamo-capacity.js';

const e = await startEngines();
const d = new DynamoDBClient({
  endpoint: e.dynamoEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});
await ensureTable(d, 'ttt');
const doc = DynamoDBDocumentClient.from(d);
const m = meterCapacity(doc);
await doc.send(
  new PutCommand({
    TableName: 'ttt',
    Item: {
      pk: 'JOB#1',
      sk: 'JOB',
      gsi1pk: 'S#q',
      gsi1sk: '1',
      gsi2pk: 'U',
      gsi2sk: '1',
      url: 'x'.repeat(300),
    },
  }),
);
await doc.send(
  new UpdateCommand({
    TableName: 'ttt',
    Key: { pk: 'JOB#1', sk: 'JOB' },
    UpdateExpression: 'SET #g = :a, gsi1sk = :b',
    ExpressionAttributeNames: { '#g': 'gsi1pk' },
    ExpressionAttributeValues: { ':a': 'S#s', ':b': '2' },
  }),
);
await doc.send(
  new UpdateCommand({
    TableName: 'ttt',
    Key: { pk: 'JOB#1', sk: 'JOB' },
    UpdateExpression: 'REMOVE gsi1pk, gsi1sk',
  }),
);
await doc.send(new GetCommand({ TableName: 'ttt', Key: { pk: 'JOB#1', sk: 'JOB' }, ConsistentRead: true }));
await doc.send(
  new QueryCommand({
    TableName: 'ttt',
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :u',
    ExpressionAttributeValues: { ':u': 'U' },
  }),
);
await doc
  .send(
    new PutCommand({
      TableName: 'ttt',
      Item: { pk: 'JOB#1', sk: 'JOB' },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  )
  .catch((e) => console.log(e.name));
console.log(m.totals());
d.destroy();
await e.close();
