import anthropic

client = anthropic.Anthropic()


def answer(question: str) -> str:
    msg = client.messages.create(
        model="claude-sonnet-4-6",
        messages=[{"role": "user", "content": question}],
    )
    return msg.content[0].text
