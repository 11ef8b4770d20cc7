#!/usr/bin/env node
'use strict';
// Times ONNX Runtime (npm onnxruntime-node, CPU execution provider) on a
// BERT ONNX model at a fixed batch and sequence length, and prints one JSON
// line {"tool":"onnxruntime",...,"seq_per_s":x}.
//
// usage: node ort_bench.js MODEL.onnx BATCH SEQ THREADS SECONDS
const ort = require('onnxruntime-node');

async function main() {
  const [model, batch, seq, threads, seconds] = process.argv.slice(2);
  const b = Number(batch), l = Number(seq), t = Number(threads), s = Number(seconds);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: t,
    interOpNumThreads: 1,
  });
  const n = b * l;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(1000 + ((i * 7919) % 1000));
  const all = {
    input_ids: new ort.Tensor('int64', ids, [b, l]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [b, l]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [b, l]),
  };
  // Models without token types (DistilBERT) take only the first two.
  const feeds = {};
  for (const name of session.inputNames) feeds[name] = all[name];
  await session.run(feeds);  // warm-up
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < s || runs < 2) {
    await session.run(feeds);
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const version = require('onnxruntime-node/package.json').version;
  console.log(JSON.stringify({ tool: 'onnxruntime', version, batch: b, seq: l, threads: t, seq_per_s: (runs * b) / elapsed }));
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
