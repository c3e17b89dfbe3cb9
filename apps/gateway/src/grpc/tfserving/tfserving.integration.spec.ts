/* eslint-disable @typescript-eslint/no-explicit-any -- plain objects of TF Serving's protos, as its clients see them */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protoRoot } from '@servable/contracts/grpc';
import { RoutingTable } from '../../control-plane/routing-table.service';
import { HASH_V1, fakeEncode, fakeSpamProbability } from '../../testing/fake-data-plane';
import { startTestGateway, type TestGateway } from '../../testing/test-gateway';

process.env['LOG_LEVEL'] ??= 'warn';

const ADMIN_KEY = 'svb_tfserving_admin_key_0123456789';
const SPAMMY = 'free free money';
const HAMMY = 'lunch at noon';
const spamOf = (text: string) => fakeSpamProbability(fakeEncode(text));

/**
 * A TF Serving client as one is written outside Servable: grpc-js over
 * tensorflow_serving/apis/*.proto with snake_case fields (proto-loader's
 * keepCase, like the Python stubs), int64 as strings.
 */
function tfServingClients(address: string) {
  const definition = protoLoader.loadSync(['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto'], {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [protoRoot()],
  });
  const pkg = (grpc.loadPackageDefinition(definition) as any).tensorflow.serving;
  const creds = grpc.credentials.createInsecure();
  return { prediction: new pkg.PredictionService(address, creds), model: new pkg.ModelService(address, creds) };
}

describe('TF Serving gRPC API on the gateway port (fake data plane)', () => {
  let testGateway: TestGateway;
  let clients: ReturnType<typeof tfServingClients>;
  let clientKey: string;

  const auth = (key = clientKey) => {
    const md = new grpc.Metadata();
    if (key) md.set('authorization', `Bearer ${key}`);
    return md;
  };
  const unary = (client: any, method: string, request: unknown, metadata = auth()) =>
    new Promise<any>((resolve, reject) => client[method](request, metadata, (err: Error | null, reply: unknown) => (err ? reject(err) : resolve(reply))));

  beforeAll(async () => {
    testGateway = await startTestGateway({ SERVABLE_ADMIN_KEY: ADMIN_KEY });
    const res = await fetch(`${testGateway.url}/admin/api/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ name: 'tfs-client', role: 'client' }),
    });
    clientKey = ((await res.json()) as any).key;
    await testGateway.gateway.controlPlane.registry.setLabels('spam', { stable: 1, canary: 2 }, 'test');
    await testGateway.gateway.app.get(RoutingTable).refresh();
    clients = tfServingClients(testGateway.grpcUrl);
  }, 60_000);

  afterAll(async () => {
    clients?.prediction.close();
    clients?.model.close();
    await testGateway?.close();
  });

  it('predicts from DT_STRING texts and names the version that answered', async () => {
    const reply = await unary(clients.prediction, 'Predict', {
      model_spec: { name: 'spam' },
      inputs: { text: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 2 }] }, string_val: [Buffer.from(SPAMMY), Buffer.from(HAMMY)] } },
    });
    expect(reply.model_spec).toMatchObject({ name: 'spam', version: { value: '1' }, signature_name: 'serving_default' });
    const out = reply.outputs.probabilities;
    expect(out.dtype).toBe('DT_FLOAT');
    expect(out.tensor_shape.dim.map((d: any) => d.size)).toEqual(['2', '2']);
    expect(out.float_val[1]).toBeCloseTo(spamOf(SPAMMY), 5);
    expect(out.float_val[3]).toBeCloseTo(spamOf(HAMMY), 5);
  });

  it('predicts from input_ids as DT_INT64 and DT_INT32 (tensor_content too), by version and by version_label', async () => {
    const ids = fakeEncode(SPAMMY);
    const int64 = await unary(clients.prediction, 'Predict', {
      model_spec: { name: 'spam', version: { value: '2' } },
      inputs: { input_ids: { dtype: 'DT_INT64', tensor_shape: { dim: [{ size: 1 }, { size: ids.length + 2 }] }, int64_val: [...ids, 0, 0].map(String) } },
    });
    expect(int64.model_spec.version.value).toBe('2');
    expect(int64.outputs.probabilities.float_val[1]).toBeCloseTo(spamOf(SPAMMY), 5);

    const content = Buffer.from(Int32Array.from(ids).buffer);
    const int32 = await unary(clients.prediction, 'Predict', {
      model_spec: { name: 'spam', version_label: 'canary' },
      inputs: { input_ids: { dtype: 'DT_INT32', tensor_shape: { dim: [{ size: 1 }, { size: ids.length }] }, tensor_content: content } },
    });
    expect(int32.model_spec.version.value).toBe('2');
    expect(int32.outputs.probabilities.float_val[1]).toBeCloseTo(spamOf(SPAMMY), 5);
  });

  it('answers TF Serving codes: NOT_FOUND for an unknown model or version, INVALID_ARGUMENT for an unknown label or a bad tensor', async () => {
    const text = { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 1 }] }, string_val: [Buffer.from('hi')] };
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'nope' }, inputs: { text } })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam', version: { value: '9' } }, inputs: { text } })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    // A version set to 0 is set: TF Serving answers NOT_FOUND, it does not serve the default version.
    for (const method of ['Predict', 'GetModelMetadata'] as const) {
      await expect(unary(clients.prediction, method, { model_spec: { name: 'spam', version: { value: '0' } }, inputs: { text }, metadata_field: ['signature_def'] })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
    }
    // Bytes that are not UTF-8 are refused, not read as U+FFFDs and classified.
    const latin1 = { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 1 }] }, string_val: [Buffer.from([0x63, 0x61, 0x66, 0xe9])] };
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam' }, inputs: { text: latin1 } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('string 0 is not valid UTF-8'),
    });
    // An unknown label is INVALID_ARGUMENT in TF Serving ("Unrecognized servable version label"), not NOT_FOUND.
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam', version_label: 'nope' }, inputs: { text } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('Unrecognized servable version label: nope'),
    });
    const wrongShape = { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 3 }] }, string_val: [Buffer.from('hi')] };
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam' }, inputs: { text: wrongShape } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('needs 3 strings'),
    });
    const floats = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }] }, float_val: [1] };
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam' }, inputs: { x: floats } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam' }, inputs: { text }, output_filter: ['logits'] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('unknown output(s) logits'),
    });
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam' }, inputs: { text }, output_filter: ['probabilities', 'probabilities'] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('duplicate output tensor alias'),
    });
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam', signature_name: 'other' }, inputs: { text } })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    await expect(unary(clients.prediction, 'Predict', { model_spec: { name: 'spam' }, inputs: { text } }, auth(''))).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
    });
  });

  it('answers Regress as TF Serving does: NOT_FOUND for an unknown model or version, else no regression signature', async () => {
    const input = { example_list: { examples: [{ features: { feature: { text: { bytes_list: { value: [Buffer.from('a')] } } } } }] } };
    await expect(unary(clients.prediction, 'Regress', { model_spec: { name: 'nope' }, input })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(unary(clients.prediction, 'Regress', { model_spec: { name: 'spam', version: { value: '9' } }, input })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(unary(clients.prediction, 'Regress', { model_spec: { name: 'spam' }, input })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('Expected regression signature'),
    });
  });

  it('classifies tf.Examples with a text feature into classes and scores', async () => {
    const example = (text: string) => ({ features: { feature: { text: { bytes_list: { value: [Buffer.from(text)] } } } } });
    const reply = await unary(clients.prediction, 'Classify', { model_spec: { name: 'spam' }, input: { example_list: { examples: [example(SPAMMY), example(HAMMY)] } } });
    expect(reply.model_spec.version.value).toBe('1');
    const [spammy, hammy] = reply.result.classifications;
    expect(spammy.classes.map((c: any) => c.label)).toEqual(['ham', 'spam']);
    expect(spammy.classes[1].score).toBeCloseTo(spamOf(SPAMMY), 5);
    expect(hammy.classes[1].score).toBeCloseTo(spamOf(HAMMY), 5);
  });

  it('returns signature_def metadata as a packed SignatureDefMap', async () => {
    const reply = await unary(clients.prediction, 'GetModelMetadata', { model_spec: { name: 'spam', version: { value: '1' } }, metadata_field: ['signature_def'] });
    expect(reply.model_spec.version.value).toBe('1');
    const any = reply.metadata.signature_def;
    expect(any.type_url).toBe('type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const root = new protobuf.Root();
    root.resolvePath = (_o, target) => (target.startsWith('google/') ? target : join(protoRoot(), target));
    root.loadSync('tensorflow_serving/apis/get_model_metadata.proto', { keepCase: true });
    const type = root.lookupType('tensorflow.serving.SignatureDefMap');
    const map = type.toObject(type.decode(any.value), { enums: String, longs: Number }) as any;
    const sig = map.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(sig.inputs.input_ids).toMatchObject({ dtype: 'DT_INT32', name: 'input_ids' });
    expect(sig.inputs.text.dtype).toBe('DT_STRING');
    expect(sig.outputs.probabilities.tensor_shape.dim.map((d: any) => d.size)).toEqual([-1, 2]);
    await expect(unary(clients.prediction, 'GetModelMetadata', { model_spec: { name: 'spam' }, metadata_field: ['graph'] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it('reports version states through ModelService.GetModelStatus', async () => {
    const all = await unary(clients.model, 'GetModelStatus', { model_spec: { name: 'spam' } });
    expect(all.model_version_status.map((s: any) => [s.version, s.state, s.status.error_code])).toEqual([
      ['1', 'AVAILABLE', 'OK'],
      ['2', 'AVAILABLE', 'OK'],
    ]);
    const one = await unary(clients.model, 'GetModelStatus', { model_spec: { name: 'spam', version_label: 'stable' } });
    expect(one.model_version_status.map((s: any) => s.version)).toEqual(['1']);
    await expect(unary(clients.model, 'GetModelStatus', { model_spec: { name: 'nope' } })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    // signature_name means nothing to a status, as in TF Serving.
    expect((await unary(clients.model, 'GetModelStatus', { model_spec: { name: 'spam', signature_name: 'predict' } })).model_version_status.length).toBeGreaterThan(0);
  });

  it('keeps the tokenizer pin for ids: a mismatching x-servable-tokenizer is refused', async () => {
    const md = auth();
    md.set('x-servable-tokenizer', HASH_V1);
    const ids = fakeEncode(SPAMMY);
    await expect(
      unary(
        clients.prediction,
        'Predict',
        { model_spec: { name: 'spam', version: { value: '2' } }, inputs: { input_ids: { dtype: 'DT_INT32', tensor_shape: { dim: [{ size: 1 }, { size: ids.length }] }, int_val: ids } } },
        md,
      ),
    ).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });
});
