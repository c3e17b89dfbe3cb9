// Servable's own REST API: labels with scores, the version and tokenizer that answered.
import { MODEL, main, postJson } from './_common.mjs';

main(async () => {
  const answer = await postJson(`/v1/models/${MODEL}:classify`, { texts: ['WIN a FREE cruise, click now!!!', 'Lunch at noon tomorrow?'] });
  for (const p of answer.predictions) console.log(`${p.label}\t${JSON.stringify(p.scores)}`);
  console.log(`model_version ${answer.model_version}, tokenizer ${answer.tokenizer.slice(0, 12)}`);
});
