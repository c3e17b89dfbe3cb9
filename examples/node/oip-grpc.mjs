// The Open Inference Protocol over gRPC (inference.GRPCInferenceService), as KServe and Triton clients call it.
import { GRPC_ADDRESS, MODEL, call, insecure, load, main } from './_common.mjs';

main(async () => {
  const pkg = load(['inference/grpc_predict_v2.proto']);
  const client = new pkg.inference.GRPCInferenceService(GRPC_ADDRESS, insecure());
  try {
    const reply = await call(client, 'ModelInfer', {
      model_name: MODEL,
      inputs: [{ name: 'text', datatype: 'BYTES', shape: ['1'], contents: { bytes_contents: [Buffer.from('WIN a FREE cruise, click now!!!')] } }],
    });
    console.log(`${reply.outputs[0].name} ${JSON.stringify(reply.outputs[0].contents.fp32_contents)} (model_version ${reply.model_version})`);
  } finally {
    client.close();
  }
});
