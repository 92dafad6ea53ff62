"""A small real OpenAI Agents SDK agent: a triage agent hands off to a
weather agent with two tools, one of which fails.  Run by the tests in the
frameworks virtualenv (see tests/support/frameworks.py); prints one JSON line.

    python agents_app.py --base-url URL [--api responses|chat_completions] [--stream]
                         [--trace] [--guard] [--sdk-session NAME] [--cassette PATH --cassette-mode MODE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from agents import (Agent, GuardrailFunctionOutput, RunConfig, Runner, function_tool, input_guardrail,
                    set_default_openai_api, set_default_openai_client)
from agents import set_trace_processors
import openai


def ran(tool: str) -> None:
    """Note that a tool really ran (the tests check a denied one did not)."""
    path = os.environ.get("AGENT_APP_RAN")
    if path:
        with open(path, "a") as f:
            f.write(tool + "\n")


PROMPT = "What's the weather in Paris?"
SCRIPT = {PROMPT: [[{"tool": "transfer_to_weather_agent", "input": {}}],
                   [{"tool": "get_weather", "input": {"city": "Paris"}},
                    {"tool": "get_forecast", "input": {"city": "Paris", "days": 2}}],
                   [{"text": "It is 21C and sunny in Paris; no forecast today."}]]}


@function_tool
def get_weather(city: str) -> dict:
    """The weather in a city now."""
    ran("get_weather")
    return {"city": city, "temp_c": 21, "sky": "sunny"}


def forecast_failed(ctx, error: Exception) -> str:
    return f"forecast failed: {error}"


@function_tool(failure_error_function=forecast_failed)
def get_forecast(city: str, days: int) -> str:
    """A forecast for the next days."""
    ran("get_forecast")
    raise RuntimeError(f"forecast service down for {city}")


@input_guardrail
def on_topic(ctx, agent, user_input) -> GuardrailFunctionOutput:
    """Trips on questions that are not about the weather."""
    return GuardrailFunctionOutput(output_info={"checked": True},
                                   tripwire_triggered="weather" not in str(user_input).lower())


def build_agents():
    weather = Agent(name="weather_agent", instructions="Answer with the tools.", model="gpt-4o-mini",
                    tools=[get_weather, get_forecast])
    triage = Agent(name="triage", instructions="Hand weather questions to the weather agent.",
                   model="gpt-4o-mini", handoffs=[weather], input_guardrails=[on_topic])
    return triage, weather


async def run_once(triage, stream: bool) -> str:
    cfg = RunConfig(workflow_name="weather workflow")
    if stream:
        r = Runner.run_streamed(triage, PROMPT, run_config=cfg)
        async for _ in r.stream_events():
            pass
        return r.final_output
    return (await Runner.run(triage, PROMPT, run_config=cfg)).final_output


set_trace_processors([])  # no upload to OpenAI's trace backend: the tests are offline


def setup(base_url: str, api: str):
    set_default_openai_client(openai.AsyncOpenAI(base_url=base_url, api_key="sk-test-not-a-real-key-0000",
                                                 max_retries=0), use_for_tracing=False)
    set_default_openai_api(api)


def run(argv) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--api", default="responses")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--trace", action="store_true")
    p.add_argument("--twice", action="store_true", help="instrument twice (idempotent)")
    p.add_argument("--removed", action="store_true", help="instrument, then remove before the run")
    p.add_argument("--guard", action="store_true")
    p.add_argument("--sdk-session")
    p.add_argument("--cassette")
    p.add_argument("--cassette-mode", default="once")
    a = p.parse_args(argv)
    setup(a.base_url, a.api)
    triage, _ = build_agents()
    handle = None
    if a.trace:
        from agent_trace.integrations import instrument_openai_agents

        handle = instrument_openai_agents()
        if a.twice:
            handle = instrument_openai_agents()
        if a.removed:
            handle.remove()
        if a.guard:
            handle.guard(triage)
    out: dict = {}

    async def go():
        if a.cassette:
            from agent_trace.cassette import use_cassette

            with use_cassette(a.cassette, a.cassette_mode):
                return await run_once(triage, a.stream)
        return await run_once(triage, a.stream)

    try:
        if a.sdk_session:
            from agent_trace.sdk import instrument, session

            instrument()
            with session(a.sdk_session):
                out["final"] = asyncio.run(go())
        else:
            out["final"] = asyncio.run(go())
    except Exception as e:
        out["error"] = {"type": type(e).__name__, "message": str(e)}
    if handle is not None:
        handle.remove()
    return out


if __name__ == "__main__":
    from runner import main

    sys.exit(main(run))
