"""Drives the gateway with the official `anthropic` SDK. Usage: anthropic_client.py SCENARIO MODEL.

BASE_URL and API_KEY come from the environment. Exits non-zero with a message on any mismatch;
prints one JSON line of facts for the Rust test to check."""
import json
import os
import sys

import anthropic

scenario, model = sys.argv[1], sys.argv[2]
client = anthropic.Anthropic(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"], max_retries=0)
facts = {}


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


if scenario == "basic":
    msg = client.messages.create(model=model, max_tokens=200, messages=[{"role": "user", "content": "hello from the sdk"}])
    check(msg.type == "message" and msg.role == "assistant", "message shape")
    check(msg.content[0].type == "text" and "hello from the sdk" in msg.content[0].text, f"text: {msg.content}")
    check(msg.stop_reason == "end_turn", f"stop_reason {msg.stop_reason}")
    check(msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0, "usage")
    facts["model"] = msg.model

    with client.messages.stream(model=model, max_tokens=200, messages=[{"role": "user", "content": "stream please"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check("stream please" in text, f"streamed text: {text!r}")
    check(final.stop_reason == "end_turn", "stream stop_reason")
    check(final.usage.output_tokens > 0, "stream usage")
    facts["streamed"] = text

    try:
        anthropic.Anthropic(base_url=os.environ["BASE_URL"], api_key="not-a-team-key", max_retries=0).messages.create(
            model=model, max_tokens=5, messages=[{"role": "user", "content": "x"}])
        check(False, "bad key accepted")
    except anthropic.AuthenticationError as e:
        check(e.status_code == 401 and e.body["error"]["type"] == "authentication_error", f"auth error body {e.body}")
    try:
        client.messages.create(model="no-such-model-xyz", max_tokens=5, messages=[{"role": "user", "content": "x"}])
        check(False, "unknown model accepted")
    except anthropic.NotFoundError as e:
        check("no-such-model-xyz" in str(e), f"not found names the model: {e}")
    # Pages of two: the SDK walks the gateway's list with after_id until has_more is false.
    facts["models"] = [m.id for m in client.models.list(limit=2)]

elif scenario == "tools":
    tools = [{"name": "get_weather", "description": "Weather for a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    msg = client.messages.create(model=model, max_tokens=300, tools=tools, tool_choice={"type": "any"},
                                 messages=[{"role": "user", "content": "what is the weather? use get_weather"}])
    check(msg.stop_reason == "tool_use", f"stop_reason {msg.stop_reason}")
    call = next(b for b in msg.content if b.type == "tool_use")
    check(call.name == "get_weather" and call.input.get("city") == "mock", f"tool call {call}")
    follow = client.messages.create(model=model, max_tokens=300, tools=tools, messages=[
        {"role": "user", "content": "what is the weather? use get_weather"},
        {"role": "assistant", "content": [b.model_dump() for b in msg.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21C"}]},
    ])
    check("sunny, 21C" in follow.content[0].text, f"tool result reply {follow.content}")
    with client.messages.stream(model=model, max_tokens=300, tools=tools, tool_choice={"type": "any"},
                                messages=[{"role": "user", "content": "use get_weather"}]) as stream:
        final = stream.get_final_message()
    streamed_call = next(b for b in final.content if b.type == "tool_use")
    check(streamed_call.input == {"city": "mock"}, f"streamed tool input {streamed_call.input}")
    check(final.stop_reason == "tool_use", "streamed stop_reason")
    facts["tool_id"] = call.id

elif scenario == "image":
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    msg = client.messages.create(model=model, max_tokens=100, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": pixel}},
        {"type": "text", "text": "describe this image"}]}])
    check("describe this image" in msg.content[0].text, f"image reply {msg.content}")

else:
    check(False, f"unknown scenario {scenario}")

print(json.dumps(facts))
