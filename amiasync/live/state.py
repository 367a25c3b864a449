"""LiveState: the sans-IO :class:`~amiasync.live.model.LiveModel` over a Manager.

It uses only the Manager's public API: one plain-function catch-all callback
feeds every event to the model (inline in the reader, so in wire order), a
state callback marks the model stale when the link drops and starts a sync
on ``RECONNECTED``, and a sync sends CoreShowChannels, BridgeList and
QueueStatus with :meth:`~amiasync.Manager.send_action`, whose responses carry
the list items (which never reach callbacks).

A sync begins buffering events *before* the first list action is written, so
every event Asterisk emits after its snapshot is in the buffer (see the model's
docstring for why replaying them on the snapshot is exact). Events that reach
the callback later than the responses (an async handler elsewhere can delay
dispatch) are simply applied afterwards, in order, which is the same thing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._compat import timeout as async_timeout
from ..exceptions import ActionFailed, ActionTimeout, AMIError, ManagerSocketError
from ..message import Action, Event, Message, Response
from .model import Bridge, Call, Change, Channel, LiveModel, Queue, SyncOverflow

if TYPE_CHECKING:
    from ..connection import ConnectionState, Manager

__all__ = ["LiveState", "ChangeStream", "ChangesOverflow", "SNAPSHOT_ACTIONS"]

log = logging.getLogger("amiasync.live")

#: The actions whose list items make the snapshot, in the order they are sent.
SNAPSHOT_ACTIONS = ("CoreShowChannels", "BridgeList", "QueueStatus")


class ChangesOverflow(AMIError):
    """A :meth:`LiveState.changes` reader fell ``maxsize`` changes behind.

    The changes it missed are lost to it; the model itself is intact, so read
    the current state again and open a new stream.
    """


class ChangeStream:
    """One reader's changes, in order: an async iterator and context manager.

    Made by :meth:`LiveState.changes`; it receives every change from the
    moment it is made until it is closed or the LiveState closes (then the
    iteration ends once the queued changes are read).
    """

    def __init__(self, live: LiveState, maxsize: int) -> None:
        self._live = live
        self._items: deque[Change] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.closed = False

    def _push(self, changes: list[Change]) -> None:
        if self.overflowed or self.closed:
            return
        if len(self._items) + len(changes) > self._maxsize:
            self.overflowed = True
        else:
            self._items.extend(changes)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> Change:
        while not self._items:
            if self.overflowed:
                self.close()
                raise ChangesOverflow(f"change reader fell {self._maxsize} changes behind")
            if self.closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def qsize(self) -> int:
        """How many changes wait to be read."""
        return len(self._items)

    def close(self) -> None:
        """Stop receiving changes; the iteration ends after those already queued."""
        if not self.closed:
            self.closed = True
            self._live._streams.discard(self)
            self._wake()

    async def aclose(self) -> None:
        """Same as :meth:`close`."""
        self.close()

    async def __aenter__(self) -> ChangeStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LiveState:
    """Channels, bridges, calls and queues of one Asterisk, kept true from AMI.

    ::

        async with LiveState(manager) as live:
            await live.synced()
            for channel in live.channels.values():
                print(channel.name, channel.state)

    The manager needs ``call``, ``dialplan`` and ``agent`` events (the default
    login asks for all) and, to resync after a reconnect, ``reconnect=True``.

    Args:
        manager: A connected (or connecting) Manager.
        sync_timeout: Seconds each snapshot list may take.
        retry_delay: Seconds before a failed sync (a timeout, an overflow) is retried.
        model: The model to keep (a fresh :class:`LiveModel` by default).

    Attributes:
        model: The sans-IO model.
        syncs: How many syncs finished.
    """

    def __init__(
        self,
        manager: Manager,
        *,
        sync_timeout: float = 30.0,
        retry_delay: float = 0.5,
        model: LiveModel | None = None,
    ) -> None:
        self.manager = manager
        self.model = model if model is not None else LiveModel()
        self.sync_timeout = sync_timeout
        self.retry_delay = retry_delay
        self.syncs = 0
        self._streams: set[ChangeStream] = set()
        self._synced = asyncio.Event()
        self._sync_task: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False

    # -- the model, read-only -------------------------------------------------

    @property
    def channels(self) -> Mapping[str, Channel]:
        """Channels by Uniqueid."""
        return self.model.channels

    @property
    def bridges(self) -> Mapping[str, Bridge]:
        """Bridges by BridgeUniqueid."""
        return self.model.bridges

    @property
    def calls(self) -> Mapping[str, Call]:
        """Calls by Linkedid."""
        return self.model.calls

    @property
    def queues(self) -> Mapping[str, Queue]:
        """Queues by name."""
        return self.model.queues

    @property
    def is_synced(self) -> bool:
        """True when the model is consistent with Asterisk: False while
        disconnected, before the first sync and during a resync."""
        return self.model.synced and not self.model.syncing and self.manager.is_connected()

    # -- life cycle -------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the manager's events and start the first sync.

        Returns at once; :meth:`synced` waits for the sync.
        """
        if self._started:
            return
        self._started = True
        self.manager.register_callback("", self._on_event)
        self.manager.register_state_callback(self._on_state)
        self._resync()

    async def close(self) -> None:
        """Unsubscribe, stop syncing and end every change stream."""
        if self._closed:
            return
        self._closed = True
        self.manager.unregister_callback("", self._on_event)
        self.manager.unregister_state_callback(self._on_state)
        task = self._sync_task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.model.abort_sync()
        self._synced.set()  # wake waiters, who then raise
        for stream in list(self._streams):
            stream.close()

    async def __aenter__(self) -> LiveState:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def synced(self, timeout: float | None = None) -> None:
        """Wait until the model is consistent with Asterisk.

        Args:
            timeout: Seconds to wait; None waits as long as it takes.

        Raises:
            ActionTimeout: Not synced in time.
            ManagerSocketError: The LiveState was closed.
        """
        try:
            async with async_timeout(timeout):
                while not self.is_synced:
                    if self._closed:
                        raise ManagerSocketError("LiveState closed")
                    self._synced.clear()
                    await self._synced.wait()
        except asyncio.TimeoutError as exc:
            raise ActionTimeout(f"live state not synced after {timeout} s") from exc
        if self._closed:
            raise ManagerSocketError("LiveState closed")

    def changes(self, maxsize: int = 10_000) -> ChangeStream:
        """Every change from now on, in order.

        Args:
            maxsize: How many unread changes the stream may hold; past that it
                raises :class:`ChangesOverflow` (after the queued ones).

        Returns:
            An async iterator of :class:`Change`.
        """
        stream = ChangeStream(self, maxsize)
        if self._closed:
            stream.closed = True
        else:
            self._streams.add(stream)
        return stream

    # -- events in, changes out -----------------------------------------------------

    def _on_event(self, event: Message, manager: Any) -> None:
        changes = self.model.apply(event)  # type: ignore[arg-type]
        if changes and self._streams:
            self._publish(changes)

    def _publish(self, changes: list[Change]) -> None:
        for stream in list(self._streams):
            stream._push(changes)

    def _on_state(self, state: ConnectionState, manager: Any) -> None:
        if self._closed:
            # Closed by another handler of the same state change (the
            # manager calls the handlers registered when it happened).
            return
        name = state.name
        if name in ("DISCONNECTED", "FAILED"):
            self.model.abort_sync()
            self.model.mark_unsynced()
            self._synced.clear()
        elif name == "RECONNECTED" or (name == "CONNECTED" and not self.manager.reconnect):
            # A manager that reconnects by itself says RECONNECTED once it is
            # logged in again; one connected again by hand only says CONNECTED
            # (the sync then waits for the login, retrying while refused).
            self._resync()

    def _resync(self) -> None:
        task = self._sync_task
        if task is not None and not task.done():
            task.cancel()
        self._synced.clear()
        self._sync_task = asyncio.ensure_future(self._sync_loop())

    async def _sync_loop(self) -> None:
        manager = self.manager
        while not self._closed:
            try:
                await manager.wait_ready()
                await self._sync_once()
                return
            except ManagerSocketError as exc:
                # The link dropped during the sync: the next (RE)CONNECTED
                # starts the next one.
                self.model.abort_sync()
                log.info("live sync interrupted: %s", exc)
                return
            except (ActionTimeout, ActionFailed, SyncOverflow) as exc:
                self.model.abort_sync()
                log.warning("live sync failed (%s); retrying", exc)
            except asyncio.CancelledError:
                self.model.abort_sync()
                raise
            await asyncio.sleep(self.retry_delay)

    async def _sync_once(self) -> None:
        model = self.model
        # Before anything is written: every event from here on is buffered.
        model.begin_sync()
        responses = await asyncio.gather(
            *(
                self.manager.send_action(Action(name), timeout=self.sync_timeout)
                for name in SNAPSHOT_ACTIONS
            )
        )
        items: list[Event] = []
        for name, response in zip(SNAPSHOT_ACTIONS, responses):
            items.extend(_list_items(name, response))
        changes = model.finish_sync(items)
        self.syncs += 1
        if changes and self._streams:
            self._publish(changes)
        self._synced.set()
        log.info(
            "live state synced: %d channels, %d bridges, %d queues",
            len(model.channels),
            len(model.bridges),
            len(model.queues),
        )


def _list_items(name: str, response: Response) -> list[Event]:
    if response.success:
        return list(response.events)
    # QueueStatus fails when app_queue is not loaded, BridgeList on a server
    # without bridges (the embedded fake): nothing of that kind then. Without
    # the channel list there is no snapshot at all.
    if name != "CoreShowChannels":
        log.info("%s failed (%s): none listed", name, response.message)
        return []
    raise ActionFailed(response, f"{name} failed: {response.message}")
