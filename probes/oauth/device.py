"""The device code flow (RFC 8628) as Microsoft's identity platform runs it.

``DeviceSignIn`` asks for a code, tells the caller what to show (``on_code``), then polls
the token endpoint at the interval the server gave, five seconds slower after each
``slow_down``, until the user signs in, declines, or the code expires. The waiting is
bounded by the code's lifetime and can be cancelled like any asyncio task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from probes.oauth.client import DeviceCode, OAuthClient
from probes.oauth.errors import OAuthError
from probes.oauth.tokens import TokenSet

SLOW_DOWN_STEP = 5
MIN_INTERVAL = 0


@dataclass(frozen=True)
class DeviceWait:
    """Progress while the user signs in: polls so far, seconds left, the current interval."""

    polls: int
    seconds_left: float
    interval: int
    slowed_down: bool = False


Sleep = Callable[[float], Awaitable[None]]
CodeReady = Callable[[DeviceCode], None]
Waiting = Callable[[DeviceWait], None]


class DeviceSignIn:
    """One device code sign-in.

    ``sleep`` is asyncio.sleep (tests may record the waits instead of spending them);
    ``clock`` a monotonic clock.
    """

    def __init__(
        self,
        client: OAuthClient,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._sleep = sleep
        self._clock = clock

    async def run(self, on_code: CodeReady, on_wait: Waiting | None = None) -> TokenSet:
        """Get a code, hand it to ``on_code``, and poll until there are tokens (or an error)."""
        device = await self.client.start_device_flow()
        on_code(device)
        return await self.wait(device, on_wait)

    async def wait(self, device: DeviceCode, on_wait: Waiting | None = None) -> TokenSet:
        """Poll for ``device`` until signed in; OAuthError on decline, expiry or trouble."""
        deadline = self._clock() + device.expires_in
        interval = max(MIN_INTERVAL, device.interval)
        polls = 0
        slowed = False
        while True:
            left = deadline - self._clock()
            if left <= 0:
                raise OAuthError(
                    "expired_token", "the code expired before the sign-in was completed"
                )
            if on_wait is not None:
                on_wait(DeviceWait(polls, left, interval, slowed))
            await self._sleep(min(interval, left))
            polls += 1
            try:
                return await self.client.poll_device_code(device)
            except OAuthError as exc:
                if exc.error == "authorization_pending":
                    slowed = False
                    continue
                if exc.error == "slow_down":
                    interval += SLOW_DOWN_STEP
                    slowed = True
                    continue
                raise
