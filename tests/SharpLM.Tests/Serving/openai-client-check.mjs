// Calls a SharpLM server with OpenAI's official JavaScript client for OpenAiClientTests.
// Reads {nodeModules, baseURL, apiKey, model, scenario, ...} as JSON on stdin and prints the scenario's results
// as JSON: what the client returned, so the C# test compares it with SharpLM's own generator.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const { default: OpenAI } = await import(pathToFileURL(join(request.nodeModules, "openai", "index.mjs")).href);
const client = new OpenAI({ baseURL: request.baseURL, apiKey: request.apiKey, maxRetries: 0 });
const model = request.model;

// The server's batch occupancy, read while requests run.
async function health() {
  const response = await fetch(`${request.baseURL.replace(/\/v1$/, "")}/health`, { headers: { Authorization: `Bearer ${request.apiKey}` } });
  return response.json();
}

async function streamed(body) {
  const stream = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  const pieces = [];
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      pieces.push(choice.text);
      finish = choice.finish_reason ?? finish;
    }
    usage = chunk.usage ?? usage;
  }
  return { text: pieces.join(""), pieces: pieces.length, finish, usage };
}

// A rejected request: the client's typed error and the body's OpenAI error fields.
async function rejection(body) {
  try {
    await client.completions.create(body);
    return { status: 200 };
  } catch (error) {
    return { status: error.status, kind: error.constructor.name, type: error.type, param: error.param, code: error.code, message: error.error?.message };
  }
}

const scenarios = {
  async plain() {
    const models = await client.models.list();
    const completion = await client.completions.create({ model, prompt: request.prompt, max_tokens: request.maxTokens, temperature: 0 });
    return { models: models.data, completion };
  },
  async streamed() {
    const body = { model, prompt: request.prompt, max_tokens: request.maxTokens, temperature: 1, seed: request.seed };
    return { stream: await streamed(body), whole: await client.completions.create(body) };
  },
  async choices() {
    return client.completions.create({ model, prompt: request.prompt, max_tokens: request.maxTokens, temperature: 1, top_p: 0.9, n: 3, seed: request.seed });
  },
  async concurrent() {
    // The server's own record of its largest decode step: polling "running" can miss a burst this short.
    const texts = await Promise.all(request.seeds.map((seed) =>
      client.completions.create({ model, prompt: request.prompt, max_tokens: request.maxTokens, temperature: 1, seed, ignore_eos: true })
        .then((completion) => completion.choices[0].text)));
    return { texts, busiest: (await health()).largest_batch };
  },
  async rejections() {
    const malformed = await fetch(`${request.baseURL}/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${request.apiKey}` },
      body: "{\"model\": ",
    });
    return {
      malformed: { status: malformed.status, body: await malformed.json() },
      unknownModel: await rejection({ model: "no-such-model", prompt: "a" }),
      negativeMaxTokens: await rejection({ model, prompt: "a", max_tokens: -1 }),
      negativeTemperature: await rejection({ model, prompt: "a", temperature: -0.5 }),
      zeroTopP: await rejection({ model, prompt: "a", top_p: 0 }),
      largeTopP: await rejection({ model, prompt: "a", top_p: 1.5 }),
      longPrompt: await rejection({ model, prompt: request.longPrompt }),
      afterwards: (await client.completions.create({ model, prompt: "a", max_tokens: 2 })).choices.length,
    };
  },
  async disconnect() {
    const stream = await client.completions.create({ model, prompt: request.prompt, max_tokens: 100000, stream: true, ignore_eos: true });
    let received = 0;
    for await (const chunk of stream) {
      if (++received === 3) break; // leaving the loop aborts the request
    }
    const during = await health();
    const started = Date.now();
    let after = during;
    while ((after.running > 0 || after.waiting > 0) && Date.now() - started < 10000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await health();
    }
    return { received, after, stoppedWithinMs: Date.now() - started };
  },
  async keys() {
    const wrong = new OpenAI({ baseURL: request.baseURL, apiKey: "wrong-key", maxRetries: 0 });
    let wrongKey;
    try {
      await wrong.completions.create({ model, prompt: "a", max_tokens: 1 });
      wrongKey = { status: 200 };
    } catch (error) {
      wrongKey = { status: error.status, kind: error.constructor.name, code: error.code };
    }
    const missing = await fetch(`${request.baseURL}/models`);
    const right = await client.completions.create({ model, prompt: "a", max_tokens: 1 });
    return { wrongKey, missing: { status: missing.status, body: await missing.json() }, right: right.choices.length };
  },
};

process.stdout.write(JSON.stringify(await scenarios[request.scenario]()));
