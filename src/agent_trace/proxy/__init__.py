"""HTTP plumbing shared by the capture proxies (MCP over HTTP, LLM APIs).

* :mod:`.http_forward`  a streaming reverse proxy: bytes reach the client as
  they arrive; observers get a copy off the forwarding path.
* :mod:`.sse`           an incremental Server-Sent Events parser.
"""
