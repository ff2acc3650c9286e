// Reference run of a TFJS graph model with the pure-JavaScript @tensorflow/tfjs CPU backend.
//
// usage: node tfjs_reference.js NODE_MODULES MODEL_JSON INPUT_BIN DTYPE SHAPE OUT_DIR
//   NODE_MODULES  the folder holding @tensorflow/tfjs (installed by the test into the cache)
//   INPUT_BIN     raw little-endian input values (float32 or int32, as DTYPE says)
//   SHAPE         comma-separated input shape, e.g. 1,385,385,3
// Writes OUT_DIR/<i>.bin (float32 or int32) per signature output and OUT_DIR/outputs.json
// ([{name, shape, dtype, file}] in signature order), plus the run time in milliseconds.
'use strict';

const fs = require('fs');
const path = require('path');

function concatShards(modelDir, manifest) {
  const buffers = [];
  const specs = [];
  for (const group of manifest) {
    for (const shard of group.paths) buffers.push(fs.readFileSync(path.join(modelDir, shard)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(buffers);
  return { specs, data: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}

async function main() {
  const [modules, modelJson, inputBin, dtype, shapeText, outDir] = process.argv.slice(2);
  const tf = require(path.join(modules, '@tensorflow/tfjs'));
  await tf.setBackend('cpu');
  const model = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const { specs, data } = concatShards(path.dirname(modelJson), model.weightsManifest);
  const graph = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: model.modelTopology,
    weightSpecs: specs,
    weightData: data,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    signature: model.signature,
  }));
  const raw = fs.readFileSync(inputBin);
  const shape = shapeText.split(',').map(Number);
  const Typed = dtype === 'int32' ? Int32Array : Float32Array;
  const values = new Typed(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const input = tf.tensor(values, shape, dtype);
  const outputs = Object.values(model.signature.outputs).map((o) => o.name.replace(/:0$/, ''));
  const start = process.hrtime.bigint();
  let results = graph.execute(input, outputs);
  if (!Array.isArray(results)) results = [results];
  const arrays = await Promise.all(results.map((t) => t.data()));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fs.mkdirSync(outDir, { recursive: true });
  const listing = results.map((t, i) => {
    const file = `${i}.bin`;
    fs.writeFileSync(path.join(outDir, file), Buffer.from(arrays[i].buffer));
    return { name: outputs[i], shape: t.shape, dtype: t.dtype, file };
  });
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify({ outputs: listing, ms }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
