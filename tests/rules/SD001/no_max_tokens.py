"""Support bot."""
import anthropic
from openai import OpenAI

claude = anthropic.Anthropic(timeout=30)
oai = OpenAI(timeout=30)
MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


def answer():
    return claude.messages.create(model="claude-sonnet-4-6", messages=MESSAGES)
