// TF Serving's REST API: predict in row format, as tensorflow_serving clients send it.
import { MODEL, main, postJson } from './_common.mjs';

main(async () => {
  const answer = await postJson(`/v1/models/${MODEL}:predict`, { instances: ['WIN a FREE cruise, click now!!!'] });
  console.log(`predictions ${JSON.stringify(answer.predictions)} (model_version ${answer.model_version})`);
});
