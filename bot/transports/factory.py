"""Which transports ``.env`` asks for."""

from __future__ import annotations

from bot.config import Settings
from bot.transports.base import Transport


def build_transports(settings: Settings) -> list[Transport]:
    transports: list[Transport] = []
    if settings.simulator:
        from bot.transports.simulator import SimulatorTransport

        transports.append(SimulatorTransport(settings.simulator_host, settings.simulator_port))
    return transports
