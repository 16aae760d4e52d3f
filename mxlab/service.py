"""The shape every lab server shares: ``start()``, ``stop()`` and use as a context manager."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self


class LabService:
    """A lab component that starts and stops; ``with`` starts it and always stops it."""

    def start(self) -> Any:
        """Start serving (subclasses implement it)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving and release every resource (subclasses implement it)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        """Start the component and return it."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the component."""
        self.stop()
