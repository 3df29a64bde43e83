"""The provider simulator: a real HTTP server speaking OpenAI's chat-completions and Anthropic's messages.

It answers deterministically per prompt, injects faults per model (latency, errors, rate limits, hangs,
malformed bodies), obeys ``#sim:`` prompt directives (see :mod:`gateway.simulator.directives`) and counts
calls per gateway request id. Tests and the demo drive it with the official SDKs.
"""

from gateway.simulator.config import SimulatorConfig
from gateway.simulator.directives import Directives, parse_directives
from gateway.simulator.faults import FaultRegistry, FaultSpec
from gateway.simulator.server import SimulatorServer, build_app, run, serve_forever
from gateway.simulator.stats import REQUEST_ID_HEADER, SimStats

__all__ = [
    "REQUEST_ID_HEADER",
    "Directives",
    "FaultRegistry",
    "FaultSpec",
    "SimStats",
    "SimulatorConfig",
    "SimulatorServer",
    "build_app",
    "parse_directives",
    "run",
    "serve_forever",
]
