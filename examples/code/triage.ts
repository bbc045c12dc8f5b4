// An example TypeScript service calling the OpenAI SDK.
import OpenAI from "openai";

const openai = new OpenAI({ timeout: 20_000 });

export async function triage(ticket: string) {
  const res = await openai.chat.completions.create({
    model: "gpt-5.2",
    max_completion_tokens: 300,
    messages: [
      { role: "system", content: "Label the ticket as billing, bug or other. Reply with the label only." },
      { role: "user", content: ticket },
    ],
  });
  return res.choices[0].message.content;
}
