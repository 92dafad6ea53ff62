"""A small real Pydantic AI agent: a planner agent delegates to a weather
agent through a tool; the weather agent has two tools, one of which fails
(``ModelRetry``).  Run by the tests in the frameworks virtualenv; prints one
JSON line.

    python pydantic_ai_app.py --base-url URL [--api chat|responses] [--stream] [--trace] [--rules]
                              [--sdk-session NAME] [--cassette PATH --cassette-mode MODE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider


def ran(tool: str) -> None:
    """Note that a tool really ran (the tests check a denied one did not)."""
    path = os.environ.get("AGENT_APP_RAN")
    if path:
        with open(path, "a") as f:
            f.write(tool + "\n")


PROMPT = "Plan my day in Paris"
QUESTION = "Paris weather report"
SCRIPT = {PROMPT: [[{"tool": "ask_weather_agent", "input": {"question": QUESTION}}],
                   [{"text": "Take sunglasses: 21C and sunny."}]],
          QUESTION: [[{"tool": "get_weather", "input": {"city": "Paris"}},
                      {"tool": "get_forecast", "input": {"city": "Paris", "days": 2}}],
                     [{"text": "21C and sunny; no forecast."}]]}


def build(base_url: str, api: str, capabilities=()):
    provider = OpenAIProvider(base_url=base_url, api_key="sk-test-not-a-real-key-0000")
    model = (OpenAIResponsesModel if api == "responses" else OpenAIChatModel)("gpt-4o-mini", provider=provider)
    weather = Agent(model, name="weather_agent", capabilities=list(capabilities))

    @weather.tool_plain
    def get_weather(city: str) -> dict:
        """The weather in a city now."""
        ran("get_weather")
        return {"city": city, "temp_c": 21, "sky": "sunny"}

    @weather.tool_plain(retries=1)
    def get_forecast(city: str, days: int) -> str:
        """A forecast for the next days."""
        ran("get_forecast")
        raise ModelRetry(f"forecast service down for {city}")

    planner = Agent(model, name="planner", capabilities=list(capabilities))

    @planner.tool
    async def ask_weather_agent(ctx: RunContext, question: str) -> str:
        """Ask the weather agent."""
        r = await weather.run(question, usage=ctx.usage)
        return r.output

    return planner


async def run_once(planner, stream: bool) -> str:
    if stream:
        async with planner.run_stream(PROMPT) as r:
            return await r.get_output()
    return (await planner.run(PROMPT)).output


def run(argv) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--api", default="chat")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--trace", action="store_true")
    p.add_argument("--twice", action="store_true", help="instrument twice (idempotent)")
    p.add_argument("--removed", action="store_true", help="instrument, then remove before the run")
    p.add_argument("--rules", action="store_true")
    p.add_argument("--sdk-session")
    p.add_argument("--cassette")
    p.add_argument("--cassette-mode", default="once")
    a = p.parse_args(argv)
    handle, caps = None, []
    if a.trace:
        from agent_trace.integrations import instrument_pydantic_ai

        handle = instrument_pydantic_ai()
        if a.twice:
            handle = instrument_pydantic_ai()
        if a.removed:
            handle.remove()
        if a.rules:
            caps.append(handle.rules())
    planner = build(a.base_url, a.api, caps)

    async def go():
        if a.cassette:
            from agent_trace.cassette import use_cassette

            with use_cassette(a.cassette, a.cassette_mode):
                return await run_once(planner, a.stream)
        return await run_once(planner, a.stream)

    out: dict = {}
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
