"""What every main screen shares: the app's workspace, and one place for job errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from tui.app import MxPilotApp
    from workspace.connection import ConnectionSettings
    from workspace.session import Workspace

T = TypeVar("T")


class ReportsJobErrors:
    """Mixin for screens and dialogs: a job (worker) that fails is reported, once, here.

    The notification names the job and the error; the app never shows a
    traceback for it and keeps running.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report a failed job as a notification (the one place job errors are handled)."""
        if event.state is WorkerState.ERROR:
            error: Any = event.worker.error
            self.notify(  # type: ignore[attr-defined]
                f"{event.worker.name}: {error.__class__.__name__}: {error}",
                title="Something went wrong",
                severity="error",
                timeout=12,
                markup=False,
            )


class MxScreen(ReportsJobErrors, Screen[None]):
    """A main screen: reaches the workspace and runs its jobs as named, grouped workers.

    A job that raises is reported here, once, as an error notification: the
    app never shows a traceback and keeps running.
    """

    @property
    def mx(self) -> MxPilotApp:
        """The app, typed."""
        return cast("MxPilotApp", self.app)

    @property
    def workspace(self) -> Workspace:
        """The open workspace."""
        return self.mx.workspace

    @property
    def settings(self) -> ConnectionSettings:
        """Trust, DNS server and time limits for probes and audits."""
        return self.mx.settings

    def run_job(
        self,
        job: Callable[[], Awaitable[T]],
        *,
        name: str,
        group: str,
        exclusive: bool = False,
    ) -> Worker[T]:
        """Run ``job`` as an async worker named ``name`` in ``group``."""
        return self.run_worker(
            job(), name=name, group=group, exclusive=exclusive, exit_on_error=False
        )
