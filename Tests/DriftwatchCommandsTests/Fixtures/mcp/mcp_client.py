"""A real MCP client (the `mcp` package from PyPI) driving `driftwatch mcp` over stdio.

    python mcp_client.py DRIFTWATCH_BINARY WORKING_DIRECTORY CALLS_JSON > results.json

calls.json: {"list_tools": true, "calls": [{"tool": "check", "arguments": {...}, "progress": false}, ...]}
results.json: {"mcp_version", "protocol_version", "server": {"name", "version"}, "tools": [...],
               "results": [{"is_error", "text", "structured", "progress": [{"progress", "total", "message"}]}, ...]}
The client validates each successful result's structured content against the tool's output schema.
"""

import asyncio
import json
import sys
from importlib.metadata import version

from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def main() -> None:
    binary, directory, calls = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(calls, encoding="utf-8") as file:
        request = json.load(file)
    server = StdioServerParameters(command=binary, args=["mcp"], cwd=directory, env={"NO_COLOR": "1"})
    out = {"mcp_version": version("mcp"), "tools": [], "results": []}
    async with Client(server, mode=request.get("mode", "auto")) as client:
        out["protocol_version"] = client.protocol_version
        info = client.server_info
        out["server"] = {"name": info.name, "version": info.version} if info else None
        if request.get("list_tools"):
            listed = await client.list_tools()
            out["tools"] = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools]
        for call in request.get("calls", []):
            progress = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                progress.append({"progress": done, "total": total, "message": message})

            result = await client.call_tool(
                call["tool"], call.get("arguments", {}), progress_callback=on_progress if call.get("progress") else None
            )
            texts = [block.text for block in result.content if getattr(block, "type", None) == "text"]
            out["results"].append(
                {
                    "is_error": bool(result.is_error),
                    "text": "".join(texts),
                    "structured": result.structured_content,
                    "progress": progress,
                }
            )
    json.dump(out, sys.stdout)


asyncio.run(main())
