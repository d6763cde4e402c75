"""Which transports ``.env`` asks for: the simulator, QQ (OneBot v11), WeChat — any together."""

from __future__ import annotations

from bot.config import ConfigError, Settings
from bot.transports.base import Transport


def build_transports(settings: Settings) -> list[Transport]:
    transports: list[Transport] = []
    if settings.simulator:
        from bot.transports.simulator import SimulatorTransport

        transports.append(SimulatorTransport(settings.simulator_host, settings.simulator_port))
    qq: list[Transport] = []
    if settings.onebot_ws_url or settings.onebot_reverse_ws:
        if not settings.onebot_access_token:
            raise ConfigError("接入 QQ 必须设置 ONEBOT_ACCESS_TOKEN（与 OneBot 实现里的 token 一致）")
        from bot.transports.onebot import (
            OneBotForwardTransport,
            OneBotReverseServer,
            parse_host_port,
        )

        if settings.onebot_ws_url:
            qq.append(OneBotForwardTransport(settings.onebot_ws_url, settings.onebot_access_token))
        if settings.onebot_reverse_ws:
            host, port = parse_host_port(settings.onebot_reverse_ws)
            qq.append(OneBotReverseServer(host, port, settings.onebot_access_token))
    if len(qq) == 1:
        transports.append(qq[0])
    elif qq:
        from bot.transports.multi import PlatformGroup

        transports.append(PlatformGroup(qq))
    if settings.wechaty_endpoint or settings.wechaty_token:
        if not (settings.wechaty_endpoint and settings.wechaty_token):
            raise ConfigError("接入微信需要同时设置 WECHATY_PUPPET_SERVICE_ENDPOINT 和 "
                              "WECHATY_PUPPET_SERVICE_TOKEN")
        from bot.transports.wechat import WechatTransport

        greet = [g.chat_id for g in settings.job_groups if g.platform == "wx"]
        transports.append(WechatTransport(settings.wechaty_endpoint, settings.wechaty_token,
                                          accept_friends=settings.wechat_accept_friends,
                                          greet_rooms=greet))
    return transports
