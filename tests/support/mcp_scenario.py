"""One MCP client session with the official Python SDK that exercises what a
proxy must carry: initialize, tools, resources, prompts, progress, and
server-to-client sampling and elicitation requests."""

from __future__ import annotations

import asyncio

from mcp import ClientSession, types


async def _sampling(context, params):
    return types.CreateMessageResult(role="assistant", model="stub-model",
                                     content=types.TextContent(type="text", text="sampled answer"))


async def _elicitation(context, params):
    return types.ElicitResult(action="accept", content={"name": "Ada", "check": True})


def _is_error(result) -> bool:
    v = getattr(result, "is_error", None)
    return bool(result.isError if v is None else v)


async def exercise(read, write) -> dict:
    """Run the scenario; returns what the client saw, for comparison."""
    seen: dict = {"progress": []}
    async with ClientSession(read, write, sampling_callback=_sampling,
                             elicitation_callback=_elicitation) as s:
        init = await s.initialize()
        seen["server"] = init.serverInfo.name if hasattr(init, "serverInfo") else init.server_info.name
        tools = {t.name for t in (await s.list_tools()).tools}
        for _ in range(20):  # tools that depend on client capabilities register a moment later
            if "trigger-sampling-request" in tools:
                break
            await asyncio.sleep(0.05)
            tools = {t.name for t in (await s.list_tools()).tools}
        seen["tools"] = sorted(tools)
        seen["echo"] = (await s.call_tool("echo", {"message": "hello"})).content[0].text
        seen["sum"] = (await s.call_tool("get-sum", {"a": 2, "b": 3})).content[0].text

        async def progress(p, total, message):
            seen["progress"].append(p)

        await s.call_tool("trigger-long-running-operation", {"duration": 0.3, "steps": 3},
                          progress_callback=progress)
        resources = (await s.list_resources()).resources
        seen["resources"] = len(resources)
        if resources:
            seen["resource_read"] = len((await s.read_resource(resources[0].uri)).contents)
        prompts = (await s.list_prompts()).prompts
        seen["prompts"] = sorted(p.name for p in prompts)
        simple = next((p.name for p in prompts if "simple" in p.name), None)
        if simple:
            seen["prompt"] = len((await s.get_prompt(simple)).messages)
        if "trigger-sampling-request" in tools:
            r = await s.call_tool("trigger-sampling-request", {"prompt": "hi", "maxTokens": 10})
            seen["sampling"] = "sampled answer" in str(r.content)
        if "trigger-elicitation-request" in tools:
            r = await s.call_tool("trigger-elicitation-request", {})
            seen["elicitation"] = not _is_error(r)
    return seen
