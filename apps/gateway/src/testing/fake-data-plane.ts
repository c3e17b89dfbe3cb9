import * as grpc from '@grpc/grpc-js';
import { float32ToBytes, int32ToBytes, bytesToInt32, unpackRagged } from '@servable/contracts';
import { loadGrpcObject } from '@servable/contracts/grpc';
import { freePort } from '@servable/observability/testing';

export { freePort };


/** Tokenizer hashes of spam v1 and v2 in the gateway tests' repository (see gatewayTestRepository). */
export { HASH_V1, HASH_V2, MAX_LENGTH } from './test-repository';

/** A word's id: a stable hash into the fake vocabulary (ids 1..999). */
const idOf = (word: string) => 1 + ([...word].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 999);

/** The fake model: spam probability grows with the count of "free" (id of "free") in the row. */
export function fakeSpamProbability(ids: ArrayLike<number>): number {
  let free = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] === idOf('free')) free++;
  return Math.min(0.95, 0.1 + 0.4 * free);
}

export function fakeEncode(text: string): number[] {
  return text.toLowerCase().split(/\W+/).filter(Boolean).map(idOf);
}

/**
 * The fake Tokenize: fakeEncode's words with their offsets, [CLS]/[SEP] around them,
 * words outside ASCII as [UNK], cut at maxLength the way the real tokenizer cuts.
 */
export function fakeTokenize(text: string, maxLength: number, addSpecialTokens: boolean) {
  const words = [...text.matchAll(/[^\W_]+|[^\p{ASCII}]+/gu)].map((m) => {
    const unknown = /[^\p{ASCII}]/u.test(m[0]);
    return { id: unknown ? 100 : idOf(m[0].toLowerCase()), token: unknown ? '[UNK]' : m[0].toLowerCase(), start: m.index, end: m.index + m[0].length, special: false, unknown };
  });
  const room = maxLength > 0 ? maxLength - (addSpecialTokens ? 2 : 0) : Infinity;
  const kept = words.slice(0, room);
  const special = (id: number, token: string) => ({ id, token, start: 0, end: 0, special: true, unknown: false });
  return { tokens: addSpecialTokens ? [special(101, '[CLS]'), ...kept, special(102, '[SEP]')] : kept, truncated: kept.length < words.length };
}

export interface SeenCall {
  method: string;
  requestId?: string;
  traceparent?: string;
  deadline?: number;
  /** The texts an Encode call carried. */
  texts?: string[];
}

export interface FakeDataPlane {
  tokenizerUrl: string;
  inferenceUrl: string;
  seen: SeenCall[];
  /** Failures to inject into the next inference Predict calls, as gRPC status codes. */
  failNextPredicts: number[];
  predictDelayMs: number;
  /** Messages that arrived on inference's PredictStreams (each carries one or more Predict items). */
  streamMessages: number;
  /** Item ids the gateway cancelled on inference's PredictStreams (their clients went away). */
  cancelledItems: number[];
  /** Version → state, as the fake inference reports it; LoadModel/UnloadModel change it. */
  states: Map<number, string>;
  stopInference(): Promise<void>;
  startInference(): Promise<void>;
  close(): Promise<void>;
}

type Handler = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => void;

/** Fake tokenizer and inference gRPC servers that speak the real protos. */
export async function startFakeDataPlane(): Promise<FakeDataPlane> {
  const root = loadGrpcObject(['tokenizer', 'inference', 'health']) as any;
  const seen: SeenCall[] = [];
  const record = (method: string, call: grpc.ServerUnaryCall<unknown, unknown>) => {
    const deadline = call.getDeadline();
    seen.push({
      method,
      requestId: call.metadata.get('x-request-id')[0]?.toString(),
      traceparent: call.metadata.get('traceparent')[0]?.toString(),
      deadline: deadline instanceof Date ? deadline.getTime() : Number(deadline),
      ...(method === 'encode' ? { texts: (call.request as { texts: string[] }).texts } : {}),
    });
  };
  const health: Record<string, Handler> = { check: (_call, cb) => cb(null, { status: 'SERVING' }), watch: () => undefined };

  const tokenizers = new Set<string>();
  const tokenizer = new grpc.Server();
  tokenizer.addService(root.servable.tokenizer.v1.TokenizerService.service, {
    encode: ((call, cb) => {
      record('encode', call);
      // Cut at maxLength as the real tokenizer cuts (right truncation), saying which rows it cut.
      const maxLength = (call.request.maxLength as number) || Infinity;
      const whole = (call.request.texts as string[]).map(fakeEncode);
      const rows = whole.map((r) => r.slice(0, maxLength));
      const values = Int32Array.from(rows.flat());
      const truncated = whole.map((r) => r.length > maxLength);
      cb(null, {
        tokenizerHash: call.request.tokenizerHash,
        ids: { dtype: 'DATA_TYPE_INT32', values: int32ToBytes(values), rowLengths: rows.map((r) => r.length) },
        specialTokens: { truncatedRows: truncated.filter(Boolean).length },
        truncated,
      });
    }) as Handler,
    tokenize: ((call, cb) => {
      record('tokenize', call);
      const { texts, maxLength, addSpecialTokens } = call.request as { texts: string[]; maxLength: number; addSpecialTokens?: boolean };
      cb(null, { tokenizerHash: call.request.tokenizerHash, texts: texts.map((t) => fakeTokenize(t, maxLength, addSpecialTokens ?? true)), maxLength, addSpecialTokens: addSpecialTokens ?? true });
    }) as Handler,
    loadTokenizer: ((call, cb) => {
      record('loadTokenizer', call);
      tokenizers.add(call.request.tokenizerHash);
      cb(null, {});
    }) as Handler,
    listTokenizers: ((_c, cb) => cb(null, { tokenizers: [...tokenizers].map((tokenizerHash) => ({ tokenizerHash })) })) as Handler,
  });
  tokenizer.addService(root.grpc.health.v1.Health.service, health);
  const tokenizerPort = await freePort();
  await bind(tokenizer, tokenizerPort);

  const plane: FakeDataPlane = {
    tokenizerUrl: `127.0.0.1:${tokenizerPort}`,
    inferenceUrl: '',
    seen,
    failNextPredicts: [],
    predictDelayMs: 0,
    streamMessages: 0,
    cancelledItems: [],
    states: new Map(),
    stopInference: async () => undefined,
    startInference: async () => undefined,
    close: async () => undefined,
  };

  const inferencePort = await freePort();
  plane.inferenceUrl = `127.0.0.1:${inferencePort}`;
  let inference: grpc.Server | undefined;
  const status = (version: number) => ({ name: 'spam', version, state: plane.states.get(version), status: { errorCode: 'OK', errorMessage: '' }, backend: 'fake' });
  /** One Predict's answer, or the failure injected for it. */
  const predictOne = (request: any): { reply?: object; error?: grpc.ServiceError } => {
    const failure = plane.failNextPredicts.shift();
    if (failure !== undefined) return { error: { code: failure, details: 'injected failure' } as grpc.ServiceError };
    const ragged = request.inputs.input_ids.ragged;
    const rows = unpackRagged({ values: bytesToInt32(ragged.values), rowLengths: ragged.rowLengths });
    const probs = new Float32Array(rows.flatMap((r) => [1 - fakeSpamProbability(r), fakeSpamProbability(r)]));
    return {
      reply: {
        modelSpec: request.modelSpec,
        outputs: { probabilities: { dtype: 'DATA_TYPE_FLOAT32', shape: [rows.length, 2], data: float32ToBytes(probs) } },
        timing: { queueUs: 120, computeUs: 800, batchSize: rows.length, paddingRatio: 0 },
        backend: 'fake',
      },
    };
  };
  plane.startInference = async () => {
    // A (re)started inference process loads what its start-up policy says: both versions.
    plane.states = new Map([
      [1, 'AVAILABLE'],
      [2, 'AVAILABLE'],
    ]);
    inference = new grpc.Server();
    inference.addService(root.servable.inference.v1.InferenceService.service, {
      predict: ((call, cb) => {
        record('predict', call);
        const { reply, error } = predictOne(call.request);
        if (error) return cb(error);
        setTimeout(() => cb(null, reply), plane.predictDelayMs);
      }) as Handler,
      // The gateway's hop: Predicts as items of a stream, each answered on its own, as inference does.
      predictStream: (call: grpc.ServerDuplexStream<any, any>) => {
        let open = 0;
        let ended = false;
        const send = (result: object) => {
          open--;
          call.write({ results: [result] });
          if (ended && open === 0) call.end();
        };
        call.on('data', (message: { items: Array<{ id: number; request: any; timeoutMs: number; requestId: string; traceparent: string }>; cancelled: number[] }) => {
          plane.streamMessages++;
          plane.cancelledItems.push(...message.cancelled);
          for (const item of message.items) {
            seen.push({ method: 'predict', requestId: item.requestId || undefined, traceparent: item.traceparent || undefined, deadline: item.timeoutMs ? Date.now() + item.timeoutMs : undefined });
            open++;
            const { reply, error } = predictOne(item.request);
            if (error) send({ id: item.id, code: error.code, message: error.details, errorCode: '', retryAfterSeconds: 0 });
            else setTimeout(() => send({ id: item.id, response: reply, code: 0, message: '', errorCode: '', retryAfterSeconds: 0 }), plane.predictDelayMs);
          }
        });
        call.on('end', () => {
          ended = true;
          if (open === 0) call.end();
        });
        call.on('error', () => undefined);
      },
      loadModel: ((call, cb) => {
        record('loadModel', call);
        const version = Number(call.request.modelSpec.version);
        plane.states.set(version, 'AVAILABLE');
        cb(null, { status: status(version) });
      }) as Handler,
      unloadModel: ((call, cb) => {
        record('unloadModel', call);
        const version = Number(call.request.modelSpec.version);
        plane.states.set(version, 'END');
        cb(null, { status: status(version) });
      }) as Handler,
      getModelStatus: ((call, cb) => {
        record('getModelStatus', call);
        if (call.request.modelSpec?.name !== 'spam') return cb({ code: grpc.status.NOT_FOUND, details: 'model is not known here' } as grpc.ServiceError);
        cb(null, { modelVersionStatus: [...plane.states.keys()].sort().map(status) });
      }) as Handler,
    });
    inference.addService(root.grpc.health.v1.Health.service, health);
    await bind(inference, inferencePort);
  };
  plane.stopInference = async () => {
    const server = inference;
    inference = undefined;
    if (server) server.forceShutdown();
  };
  plane.close = async () => {
    await plane.stopInference();
    tokenizer.forceShutdown();
  };
  await plane.startInference();
  return plane;
}

function bind(server: grpc.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
}
