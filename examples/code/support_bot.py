"""An example support bot with the kinds of mistakes promptls finds in code that calls LLM SDKs."""
import anthropic
from openai import OpenAI

SYSTEM = "You are a concise support agent for ACME. Answer in two sentences and never promise refunds."

claude = anthropic.Anthropic()  # SD003: no timeout
oai = OpenAI(timeout=30)


def answer(question: str) -> str:
    msg = claude.messages.create(  # SD001: no max_tokens
        model="claude-sonnet-4-6",
        system=SYSTEM,
        messages=[{"role": "user", "content": question}],
        temperature=1.3,  # SD002: Anthropic accepts 0..1
    )
    return msg.content[0].text


def classify(text: str) -> str:
    r = oai.chat.completions.create(
        model="gpt-4o-mnii",  # MD001: did you mean gpt-4o-mini?
        messages=[{"role": "user", "content": text}],
        response_format={"type": "json_object"},  # SD005: JSON without a schema
    )
    return r.choices[0].message.content
