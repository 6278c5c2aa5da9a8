"""An MCP client built with the official Python SDK, driving a stdio server
(`credential-oauth mcp URL`) through a scenario; each step's outcome is one
JSON line on stdout for the test to read.

usage: client.py SCENARIO COMMAND [ARG...]
"""

import asyncio
import json
import os
import sys
import time

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

scenario, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def say(**fields):
    print(json.dumps(fields), flush=True)


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def call(session, name, arguments):
    try:
        result = await session.call_tool(name, arguments)
        return {"text": text_of(result), "is_error": bool(result.is_error)}
    except MCPError as e:
        return {"error": str(e)}


async def main():
    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            say(step="initialize", server=init.server_info.name, version=init.protocol_version)
            if scenario in ("basic", "twice"):
                tools = await session.list_tools()
                say(step="tools/list", tools=sorted(t.name for t in tools.tools))
                say(step="tools/call", **await call(session, "echo", {"text": "hello"}))
            elif scenario == "stepup":
                say(step="admin_op", **await call(session, "admin_op", {}))
                say(step="admin_op again", **await call(session, "admin_op", {}))
            elif scenario == "concurrent":
                started = time.monotonic()
                done = {}

                async def slow():
                    done["slow"] = await call(session, "slow", {"seconds": 2})
                    done["slow_at"] = time.monotonic() - started

                async def ping():
                    await session.send_ping()
                    done["ping_at"] = time.monotonic() - started

                async with anyio.create_task_group() as tg:
                    tg.start_soon(slow)
                    tg.start_soon(ping)
                say(step="concurrent", **done)
            elif scenario == "expire":
                say(step="first", **await call(session, "echo", {"text": "one"}))
                print("waiting", flush=True)
                sys.stdin.readline()
                say(step="second", **await call(session, "echo", {"text": "two"}))
            elif scenario == "bench":
                n = int(os.environ.get("MCP_BENCH_CALLS", "200"))
                times = []
                for i in range(n):
                    t0 = time.perf_counter()
                    await session.call_tool("echo", {"text": str(i)})
                    times.append(time.perf_counter() - t0)
                times.sort()
                say(step="bench", median_ms=times[len(times) // 2] * 1000, calls=n)


try:
    anyio.run(main)
except Exception as e:  # the test reads what failed
    say(step="failed", error=repr(e))
    sys.exit(1)
