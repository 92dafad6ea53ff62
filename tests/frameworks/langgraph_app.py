"""A small real LangGraph agent: a planner agent calls a weather subagent
through a tool; the subagent has two tools, one of which fails.  Both are
LangGraph ReAct agents on ChatOpenAI.  Run by the tests in the frameworks
virtualenv; prints one JSON line.

    python langgraph_app.py --base-url URL [--async] [--stream] [--trace] [--sdk-session NAME]
                            [--cassette PATH --cassette-mode MODE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings

from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.prebuilt import ToolNode, create_react_agent

warnings.simplefilter("ignore")  # create_react_agent's move to langchain.agents


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


@tool
def get_weather(city: str) -> dict:
    """The weather in a city now."""
    ran("get_weather")
    return {"city": city, "temp_c": 21, "sky": "sunny"}


@tool
def get_forecast(city: str, days: int) -> str:
    """A forecast for the next days."""
    ran("get_forecast")
    raise RuntimeError(f"forecast service down for {city}")


def build(base_url: str, stream: bool):
    llm = ChatOpenAI(model="gpt-4o-mini", base_url=base_url, api_key="sk-test-not-a-real-key-0000",
                     streaming=stream, stream_usage=True, max_retries=0)
    weather = create_react_agent(llm, ToolNode([get_weather, get_forecast], handle_tool_errors=True),
                                 name="weather_agent")

    @tool
    def ask_weather_agent(question: str) -> str:
        """Ask the weather agent."""
        out = weather.invoke({"messages": [("user", question)]})
        return out["messages"][-1].content

    @tool
    async def ask_weather_agent_async(question: str) -> str:
        """Ask the weather agent."""
        out = await weather.ainvoke({"messages": [("user", question)]})
        return out["messages"][-1].content

    ask_weather_agent_async.name = "ask_weather_agent"
    planner = create_react_agent(llm, ToolNode([ask_weather_agent], handle_tool_errors=True), name="planner")
    planner_async = create_react_agent(llm, ToolNode([ask_weather_agent_async], handle_tool_errors=True),
                                       name="planner")
    return planner, planner_async


def run(argv) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--async", dest="use_async", action="store_true")
    p.add_argument("--stream", action="store_true")
    p.add_argument("--trace", action="store_true")
    p.add_argument("--twice", action="store_true", help="instrument twice (idempotent)")
    p.add_argument("--removed", action="store_true", help="instrument, then remove before the run")
    p.add_argument("--sdk-session")
    p.add_argument("--cassette")
    p.add_argument("--cassette-mode", default="once")
    a = p.parse_args(argv)
    planner, planner_async = build(a.base_url, a.stream)
    handle = None
    if a.trace:
        from agent_trace.integrations import instrument_langchain

        handle = instrument_langchain()
        if a.twice:
            handle = instrument_langchain()
        if a.removed:
            handle.remove()
    msg = {"messages": [("user", PROMPT)]}

    def go():
        if a.use_async:
            return asyncio.run(planner_async.ainvoke(msg))
        return planner.invoke(msg)

    def run():
        if a.cassette:
            from agent_trace.cassette import use_cassette

            with use_cassette(a.cassette, a.cassette_mode):
                return go()
        return go()

    out: dict = {}
    try:
        if a.sdk_session:
            from agent_trace.sdk import instrument, session

            instrument()
            with session(a.sdk_session):
                result = run()
        else:
            result = run()
        out["final"] = result["messages"][-1].content
        out["tool_messages"] = [m.content for m in result["messages"] if m.type == "tool"]
    except Exception as e:
        out["error"] = {"type": type(e).__name__, "message": str(e)}
    if handle is not None:
        handle.remove()
    return out


if __name__ == "__main__":
    from runner import main

    sys.exit(main(run))
