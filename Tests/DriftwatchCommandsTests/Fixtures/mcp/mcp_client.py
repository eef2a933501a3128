"""A real MCP client (the `mcp` package from PyPI) driving `driftwatch mcp` over stdio.

    python mcp_client.py DRIFTWATCH_BINARY WORKING_DIRECTORY CALLS_JSON > results.json

calls.json: {"list_tools": true, "calls": [{"tool": "check", "arguments": {...}}, ...]}
results.json: {"mcp_version", "protocol_version", "server": {"name", "version"}, "tools": [...],
               "results": [{"is_error", "text", "structured"}, ...]}
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
            result = await client.call_tool(call["tool"], call.get("arguments", {}))
            texts = [block.text for block in result.content if getattr(block, "type", None) == "text"]
            out["results"].append(
                {"is_error": bool(result.is_error), "text": "".join(texts), "structured": result.structured_content}
            )
    json.dump(out, sys.stdout)


asyncio.run(main())
