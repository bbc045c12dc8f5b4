"""Support bot."""
import anthropic
from openai import OpenAI

claude = anthropic.Anthropic(timeout=30)
oai = OpenAI(timeout=30)
MESSAGES = [{"role": "user", "content": "Where is my parcel?"}]


def classify():
    return oai.chat.completions.create(model="gpt-5.2", messages=MESSAGES, response_format={"type": "json_object"})
