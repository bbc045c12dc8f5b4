"""Support bot."""
import anthropic
from openai import OpenAI

claude = anthropic.Anthropic(timeout=30)
oai = OpenAI(timeout=30)
MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


def answer():
    tools = oai.chat.completions.create(model="gpt-5.2", messages=MESSAGES,
                                        functions=[{"name": "label", "parameters": {}}])
    reasoned = oai.chat.completions.create(model="o3", max_tokens=2000, messages=MESSAGES)
    return tools, reasoned
