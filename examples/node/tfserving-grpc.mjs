// TF Serving's gRPC API (tensorflow.serving.PredictionService and ModelService), from
// TF Serving's own protos: what a tensorflow-serving-api client sends.
import { GRPC_ADDRESS, MODEL, call, insecure, load, main } from './_common.mjs';

main(async () => {
  const pkg = load(['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto']).tensorflow.serving;
  const prediction = new pkg.PredictionService(GRPC_ADDRESS, insecure());
  const models = new pkg.ModelService(GRPC_ADDRESS, insecure());
  try {
    const status = await call(models, 'GetModelStatus', { model_spec: { name: MODEL } });
    console.log(`versions ${status.model_version_status.map((s) => `${s.version}:${s.state}`).join(' ')}`);
    const predicted = await call(prediction, 'Predict', {
      model_spec: { name: MODEL },
      inputs: { text: { dtype: 'DT_STRING', tensor_shape: { dim: [{ size: 1 }] }, string_val: [Buffer.from('WIN a FREE cruise, click now!!!')] } },
    });
    const [name, tensor] = Object.entries(predicted.outputs)[0];
    console.log(`${name} ${JSON.stringify(tensor.float_val)} (version ${predicted.model_spec.version.value})`);
    const example = { features: { feature: { text: { bytes_list: { value: [Buffer.from('Lunch at noon tomorrow?')] } } } } };
    const classified = await call(prediction, 'Classify', { model_spec: { name: MODEL }, input: { example_list: { examples: [example] } } });
    console.log(`classes ${classified.result.classifications[0].classes.map((c) => `${c.label}=${c.score.toFixed(4)}`).join(' ')}`);
  } finally {
    prediction.close();
    models.close();
  }
});
