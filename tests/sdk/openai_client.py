"""Drives the gateway with the official `openai` SDK. Usage: openai_client.py SCENARIO MODEL.

BASE_URL (ending in /v1) and API_KEY come from the environment. Exits non-zero with a message on any
mismatch; prints one JSON line of facts for the Rust test to check."""
import json
import os
import sys

import openai

scenario, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"], max_retries=0)
facts = {}


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


if scenario == "basic":
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hello from openai sdk"}])
    check(r.object == "chat.completion", "object")
    check("hello from openai sdk" in r.choices[0].message.content, f"content {r.choices[0].message.content!r}")
    check(r.choices[0].finish_reason == "stop", f"finish {r.choices[0].finish_reason}")
    check(r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0, "usage")
    facts["model"] = r.model

    chunks = list(client.chat.completions.create(model=model, stream=True, stream_options={"include_usage": True},
                                                 messages=[{"role": "user", "content": "stream it"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check("stream it" in text, f"streamed {text!r}")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    check(finishes == ["stop"], f"finish reasons {finishes}")
    check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0, "usage chunk last")
    facts["streamed"] = text

    try:
        openai.OpenAI(base_url=os.environ["BASE_URL"], api_key="not-a-team-key", max_retries=0).chat.completions.create(
            model=model, messages=[{"role": "user", "content": "x"}])
        check(False, "bad key accepted")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, "401")
    try:
        client.chat.completions.create(model="no-such-model-xyz", messages=[{"role": "user", "content": "x"}])
        check(False, "unknown model accepted")
    except openai.NotFoundError as e:
        check("no-such-model-xyz" in str(e), f"not found names the model: {e}")
    facts["models"] = [m.id for m in client.models.list()]

elif scenario == "tools":
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    r = client.chat.completions.create(model=model, tools=tools, tool_choice="required",
                                       messages=[{"role": "user", "content": "weather? use get_weather"}])
    call = r.choices[0].message.tool_calls[0]
    check(r.choices[0].finish_reason == "tool_calls", f"finish {r.choices[0].finish_reason}")
    check(call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "mock"}, f"call {call}")
    follow = client.chat.completions.create(model=model, tools=tools, messages=[
        {"role": "user", "content": "weather? use get_weather"},
        r.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "rainy, 12C"},
    ])
    check("rainy, 12C" in follow.choices[0].message.content, f"tool reply {follow.choices[0].message.content}")
    chunks = list(client.chat.completions.create(model=model, tools=tools, tool_choice="required", stream=True,
                                                 messages=[{"role": "user", "content": "use get_weather"}]))
    args = "".join(tc.function.arguments or "" for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or []))
    check(json.loads(args) == {"city": "mock"}, f"streamed args {args!r}")
    facts["tool_id"] = call.id

elif scenario == "responses":
    tools = [{"type": "function", "name": "get_weather", "description": "Weather for a city", "strict": False,
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
    r = client.responses.create(model=model, instructions="Be brief.", input="hello from the responses api")
    check(r.object == "response" and r.status == "completed", f"response {r.object} {r.status}")
    check("hello from the responses api" in r.output_text, f"output_text {r.output_text!r}")
    check(r.usage.input_tokens > 0 and r.usage.output_tokens > 0 and r.usage.total_tokens > 0, f"usage {r.usage}")
    facts["model"] = r.model
    facts["id"] = r.id

    r = client.responses.create(model=model, input="weather? use get_weather", tools=tools, tool_choice="required")
    calls = [o for o in r.output if o.type == "function_call"]
    check(len(calls) == 1 and calls[0].name == "get_weather", f"calls {calls}")
    check(json.loads(calls[0].arguments) == {"city": "mock"}, f"arguments {calls[0].arguments!r}")
    follow = client.responses.create(model=model, tools=tools, input=[
        {"role": "user", "content": "weather? use get_weather"},
        *[o.model_dump(exclude_none=True) for o in r.output],
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "rainy, 12C"},
    ])
    check("rainy, 12C" in follow.output_text, f"tool reply {follow.output_text!r}")
    facts["call_id"] = calls[0].call_id

    with client.responses.stream(model=model, input="stream it") as stream:
        types = [e.type for e in stream]
        final = stream.get_final_response()
    check(types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed", f"events {types}")
    check("stream it" in final.output_text and final.usage.output_tokens > 0, f"final {final}")

    with client.responses.stream(model=model, input="use get_weather", tools=tools, tool_choice="required") as stream:
        args = "".join(e.delta for e in stream if e.type == "response.function_call_arguments.delta")
        final = stream.get_final_response()
    check(json.loads(args) == {"city": "mock"}, f"streamed args {args!r}")
    streamed_calls = [o for o in final.output if o.type == "function_call"]
    check(len(streamed_calls) == 1 and streamed_calls[0].name == "get_weather", f"final output {final.output}")

    try:
        openai.OpenAI(base_url=os.environ["BASE_URL"], api_key="not-a-team-key", max_retries=0).responses.create(model=model, input="x")
        check(False, "bad key accepted")
    except openai.AuthenticationError as e:
        check(e.status_code == 401 and e.code == "invalid_api_key", f"401 {e}")
    try:
        client.responses.create(model="no-such-model-xyz", input="x")
        check(False, "unknown model accepted")
    except openai.NotFoundError as e:
        check("no-such-model-xyz" in str(e), f"not found names the model: {e}")

else:
    check(False, f"unknown scenario {scenario}")

print(json.dumps(facts))
