"""Support bot."""
import anthropic
import openai
from openai import OpenAI

claude = anthropic.Anthropic(timeout=30)
oai = OpenAI(timeout=30)
MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


def answer():
    return openai.ChatCompletion.create(model="gpt-5.2", messages=MESSAGES)


def complete():
    return claude.completions.create(model="claude-sonnet-4-6", max_tokens_to_sample=100, prompt="Hi")
