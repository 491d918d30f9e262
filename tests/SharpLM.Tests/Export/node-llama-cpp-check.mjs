// Runs a GGUF file in node-llama-cpp (llama.cpp's prebuilt CPU library) for GgufNodeLlamaCppTests.
// Reads {nodeModules, model, contextSize, texts, windows} as JSON on stdin and prints
// {tokens, detokenized, logProbabilities}: ids of each text (special tokens parsed), their detokenization,
// and for each window of ids log p(ids[i + 1] | ids[0..i]) from a fresh sequence with a float32 KV cache.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const { getLlama } = await import(pathToFileURL(join(request.nodeModules, "node-llama-cpp", "dist", "index.js")).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: request.model });
const context = await model.createContext({
  contextSize: request.contextSize,
  flashAttention: false,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
const sequence = context.getSequence();

const tokens = request.texts.map((text) => Array.from(model.tokenize(text, true)));
const detokenized = tokens.map((ids) => model.detokenize(ids, true));
const logProbabilities = [];
for (const window of request.windows) {
  await sequence.clearHistory();
  const inputs = window.slice(0, -1).map((id) => [id, { generateNext: { probabilities: true } }]);
  const outputs = await sequence.controlledEvaluate(inputs);
  logProbabilities.push(outputs.map((output, i) => Math.log(output.next.probabilities.get(window[i + 1]) ?? 0)));
}
process.stdout.write(JSON.stringify({ tokens, detokenized, logProbabilities }));
await context.dispose();
await model.dispose();
await llama.dispose();
