"""Clients with and without a timeout."""
import anthropic
from openai import OpenAI

bare = anthropic.Anthropic()
quiet = anthropic.Anthropic()  # promptls-ignore SD003
ok = OpenAI(timeout=30)
