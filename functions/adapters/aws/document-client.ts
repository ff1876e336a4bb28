// A DynamoDB document client whose requests reuse one resolved middleware chain per operation. The SDK's
// DynamoDBDocumentClient refuses `cacheMiddleware` and, for every request, copies the client's middleware stack, adds
// its marshalling steps and sorts the whole chain again: about a tenth of what the local API allocated per label
// (bench:api --heap-profile). This one marshals a document command's input itself, with the same key paths
// (the command's own inputKeyNodes/outputKeyNodes) and the same marshall options, sends the plain DynamoDB command
// through a second client of the same configuration with `cacheMiddleware: true`, and unmarshals the output the same
// way. Same requests, same answers, same errors and retries (test/unit/document-client.test.ts); any other call
// (options or a callback given, a plain command) goes the SDK's way.

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, DynamoDBDocumentClientCommand, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall, type marshallOptions as MarshallOptions, type unmarshallOptions as UnmarshallOptions } from '@aws-sdk/util-dynamodb';

type KeyNodes = Record<string, unknown> | unknown[] | null | undefined;
type Obj = Record<string, unknown>;

/** What lib-dynamodb's document commands carry (public fields of DynamoDBDocumentClientCommand's subclasses). */
interface DocumentCommand {
  input: Obj;
  inputKeyNodes: KeyNodes;
  outputKeyNodes: KeyNodes;
  clientCommand: { constructor: new (input: Obj) => unknown };
}

// The key-path walk of lib-dynamodb (dist-cjs/index.js processObj/processKeysInObj/processAllKeysInObj), as it is.
const NEXT_LEVEL = '*';

function processObj(obj: unknown, fn: (v: unknown) => unknown, keyNodes: KeyNodes): unknown {
  if (obj === undefined) return undefined;
  if (keyNodes == null) return fn(obj);
  const keys = Object.keys(keyNodes);
  const goToNextLevel = keys.length === 1 && keys[0] === NEXT_LEVEL;
  if (keys.length >= 1 && !goToNextLevel) return processKeysInObj(obj as Obj, fn, keyNodes as Obj);
  if (keys.length === 0) return processAllKeysInObj(obj as Obj, fn, null);
  const acc: Obj | unknown[] = Array.isArray(obj) ? [] : {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (typeof v !== 'function') (acc as Obj)[k] = processObj(v, fn, (keyNodes as Obj)[NEXT_LEVEL] as KeyNodes);
  }
  return acc;
}

function processKeysInObj(obj: Obj, fn: (v: unknown) => unknown, keyNodes: Obj): Obj {
  let acc: Obj;
  if (Array.isArray(obj)) {
    acc = obj.filter((item) => typeof item !== 'function') as unknown as Obj;
  } else {
    acc = {};
    for (const [k, v] of Object.entries(obj)) if (typeof v !== 'function') acc[k] = v;
  }
  for (const [nodeKey, nodes] of Object.entries(keyNodes)) {
    if (typeof obj[nodeKey] === 'function') continue;
    const processed = processObj(obj[nodeKey], fn, nodes as KeyNodes);
    if (processed !== undefined && typeof processed !== 'function') acc[nodeKey] = processed;
  }
  return acc;
}

function processAllKeysInObj(obj: Obj, fn: (v: unknown) => unknown, keyNodes: KeyNodes): unknown {
  if (Array.isArray(obj)) return obj.filter((item) => typeof item !== 'function').map((item) => processObj(item, fn, keyNodes));
  const acc: Obj = {};
  for (const [key, value] of Object.entries(obj)) {
    if (typeof value === 'function') continue;
    const processed = processObj(value, fn, keyNodes);
    if (processed !== undefined && typeof processed !== 'function') acc[key] = processed;
  }
  return acc;
}

export class CachedDocumentClient extends DynamoDBDocumentClient {
  private readonly cached: DynamoDBClient;
  private readonly marshallOptions: MarshallOptions;
  private readonly unmarshallOptions: UnmarshallOptions;

  /** `client` as DynamoDBDocumentClient.from takes it; `clientConfig` is what it was built from (for the second client). */
  constructor(client: DynamoDBClient, clientConfig: DynamoDBClientConfig, translateConfig: TranslateConfig, prepare: (c: DynamoDBClient) => void = () => undefined) {
    super(client, translateConfig);
    this.cached = new DynamoDBClient({ ...clientConfig, cacheMiddleware: true });
    prepare(this.cached);
    // The document client's defaults (lib-dynamodb addMarshallingMiddleware).
    this.marshallOptions = { ...translateConfig.marshallOptions, convertTopLevelContainer: translateConfig.marshallOptions?.convertTopLevelContainer ?? true };
    this.unmarshallOptions = { ...translateConfig.unmarshallOptions, convertWithoutMapWrapper: translateConfig.unmarshallOptions?.convertWithoutMapWrapper ?? true };
  }

  // The SDK's overloads (promise, callback, options) are kept: only the plain promise form of a document command is
  // sent the cached way.
  override send(...args: unknown[]): never {
    const [command, optionsOrCb, cb] = args;
    if (optionsOrCb === undefined && cb === undefined && command instanceof DynamoDBDocumentClientCommand) {
      return this.sendCached(command as unknown as DocumentCommand) as never;
    }
    return (super.send as (...a: unknown[]) => never)(...args);
  }

  override destroy(): void {
    this.cached.destroy();
    super.destroy();
  }

  private async sendCached(command: DocumentCommand): Promise<unknown> {
    const input = processKeysInObj(command.input, (v) => marshall(v as never, this.marshallOptions), command.inputKeyNodes as Obj);
    const Plain = command.clientCommand.constructor;
    const output = (await this.cached.send(new Plain(input) as never)) as unknown as Obj;
    return processKeysInObj(output, (v) => unmarshall(v as never, this.unmarshallOptions), command.outputKeyNodes as Obj);
  }
}
