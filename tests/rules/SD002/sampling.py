"""Support bot."""
import anthropic
from openai import OpenAI

claude = anthropic.Anthropic(timeout=30)
oai = OpenAI(timeout=30)
MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


def answer():
    hot = claude.messages.create(model="claude-sonnet-4-6", max_tokens=100, temperature=1.5, messages=MESSAGES)
    wide = oai.chat.completions.create(model="gpt-5.2", top_p=1.2, messages=MESSAGES)
    return hot, wide
