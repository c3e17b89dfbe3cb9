// The Open Inference Protocol over REST with binary tensors, byte for byte what
// tritonclient.http sends by default: JSON header, then BYTES as 4-byte LE length + UTF-8,
// and the FP32 output asked for as binary data.
import { MODEL, URL_BASE, authHeaders, main } from './_common.mjs';

function bytesTensor(texts) {
  return Buffer.concat(texts.flatMap((t) => [Buffer.from(Uint32Array.of(Buffer.byteLength(t)).buffer), Buffer.from(t)]));
}

main(async () => {
  const texts = ['WIN a FREE cruise, click now!!!', 'Lunch at noon tomorrow?'];
  const tensor = bytesTensor(texts);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [texts.length, 1], parameters: { binary_data_size: tensor.length } }],
      outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
    }),
  );
  const res = await fetch(`${URL_BASE}/v2/models/${MODEL}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length), ...authHeaders() },
    body: Buffer.concat([header, tensor]),
  });
  const raw = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${res.status} ${raw.toString()}`);
  const length = Number(res.headers.get('inference-header-content-length'));
  const json = JSON.parse(raw.subarray(0, length).toString());
  const [rows, classes] = json.outputs[0].shape;
  const data = raw.subarray(length);
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: classes }, (_, c) => data.readFloatLE((r * classes + c) * 4).toFixed(4));
    console.log(`${texts[r]}\t[${row.join(', ')}]`);
  }
  console.log(`model_version ${json.model_version}`);
});
