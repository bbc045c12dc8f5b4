// Runs the reference template engines on every case at once: reads a JSON list of cases on stdin
// ({id, engine: "handlebars" | "mustache" | "dotprompt", template, partials?}) and prints one JSON object
// mapping each id to {ok, output} or {ok: false, error}. Engines resolve from NODE_PATH (the test's npm cache).
"use strict";
const Handlebars = require("handlebars");
const Mustache = require("mustache");

async function run(c) {
  const partials = c.partials || {};
  if (c.engine === "handlebars") {
    const hb = Handlebars.create();
    for (const [name, text] of Object.entries(partials)) hb.registerPartial(name, text);
    return hb.compile(c.template)(c.data || {});
  }
  if (c.engine === "mustache") {
    return Mustache.render(c.template, c.data || {}, partials);
  }
  if (c.engine === "dotprompt") {
    const { Dotprompt } = require("dotprompt");
    const dp = new Dotprompt({ partials });
    // Dotprompt logs a frontmatter it cannot parse and goes on; keep stdout for the JSON answer.
    console.error = () => {};
    const out = await dp.render(c.template, { input: c.data || {} });
    return JSON.stringify({ model: out.model, messages: out.messages });
  }
  throw new Error(`unknown engine ${c.engine}`);
}

(async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const results = {};
  for (const c of cases) {
    try {
      results[c.id] = { ok: true, output: String(await run(c)) };
    } catch (err) {
      results[c.id] = { ok: false, error: String((err && err.message) || err).split("\n")[0] };
    }
  }
  process.stdout.write(JSON.stringify(results));
})();
