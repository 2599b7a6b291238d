"""Agents as senders: their settings and tokens (`[agents.NAME]`), and the MCP server through
which an agent previews, submits and follows signals.

An agent is a program (an LLM agent, a bot) with its own bearer token and scopes (`read`,
`preview`, `submit`), optionally held to some plugins and symbols. Its signals go through the
same pipeline, journal and guarantees as every other sender's, recorded with the source
`agent:NAME`.

This room must not import the journal, the executor or the plugins' back ends: the MCP server
reaches the running server only through its HTTP API, with the agent's own token, so that an
agent can never do more than that token allows.
"""
