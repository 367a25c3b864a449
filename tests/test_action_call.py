"""send_action's answer: a future resolved by the reader that is also a coroutine.

Against the embedded fake Asterisk over loopback. Each promise of
:class:`amiasync.link.ActionCall` gets a test that could fail: awaited,
gathered (with no task per action), handed to ``asyncio.create_task``,
cancelled either way (the late answer is then an orphan), timed out by
``asyncio.wait_for``, and failing where it is awaited, never where it is made.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref

import pytest

import amiasync
from amiasync import Action, core
from amiasync.link import ActionCall


def orphan_queue(manager: amiasync.Manager) -> asyncio.Queue[amiasync.Response]:
    orphans: asyncio.Queue[amiasync.Response] = asyncio.Queue()
    manager.register_callback(None, lambda response, m: orphans.put_nowait(response))
    return orphans


def hold(server, message: str) -> asyncio.Event:
    """Make the fake answer ``Hold`` only once the returned event is set."""
    release = asyncio.Event()

    async def answer(session, action):
        await release.wait()
        return {"Response": "Success", "Message": message}

    server.on_action("Hold", answer)
    return release


async def test_the_call_is_a_future_and_a_coroutine_and_is_sent_at_once(manager, server):
    call = manager.send_action(core.Ping())
    assert isinstance(call, ActionCall)
    assert asyncio.isfuture(call) and asyncio.iscoroutine(call)
    # Sent when made, not when first awaited.
    await server.wait_for_action("Ping")
    response = await call
    assert response.get("Ping") == "Pong" and call.result() is response


async def test_gather_waits_on_the_calls_themselves_no_task_each(manager):
    before = len(asyncio.all_tasks())
    calls = [manager.ping() for _ in range(200)]
    gathered = asyncio.gather(*calls)
    if sys.version_info >= (3, 10):
        # gather wraps a coroutine in a task, a future not: none was made.
        # (Python 3.9's ensure_future asks "coroutine?" first and wraps each
        # call in a task, which still works, as the rest shows.)
        assert len(asyncio.all_tasks()) == before
    replies = await gathered
    assert len({reply["ActionID"] for reply in replies}) == 200
    assert all(reply.get("Ping") == "Pong" for reply in replies)


async def test_create_task_drives_it_as_a_coroutine(manager, server):
    release = hold(server, "held")
    task = asyncio.create_task(manager.send_action(Action("Hold")))
    assert isinstance(task, asyncio.Task)
    await server.wait_for_action("Hold")
    assert not task.done()
    release.set()
    response = await asyncio.wait_for(task, 5)
    assert response.message == "held"


async def test_create_task_gets_the_error_of_a_failed_action(manager):
    task = asyncio.create_task(manager.send_action(Action("NoSuchAction"), check=True))
    with pytest.raises(amiasync.ActionFailed):
        await asyncio.wait_for(task, 5)


async def test_cancelling_the_task_forgets_the_action_late_answer_is_an_orphan(manager, server):
    release = hold(server, "after the task was cancelled")
    orphans = orphan_queue(manager)
    call = manager.send_action(Action("Hold"), timeout=None)
    task = asyncio.create_task(call)
    await server.wait_for_action("Hold")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.cancelled()
    release.set()
    assert (await asyncio.wait_for(orphans.get(), 5)).message == "after the task was cancelled"


async def test_cancelling_the_call_forgets_the_action_late_answer_is_an_orphan(manager, server):
    release = hold(server, "after the call was cancelled")
    orphans = orphan_queue(manager)
    call = manager.send_action(Action("Hold"), timeout=None)
    await server.wait_for_action("Hold")
    assert call.cancel() and not call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    release.set()
    assert (await asyncio.wait_for(orphans.get(), 5)).message == "after the call was cancelled"


async def test_closing_it_as_a_coroutine_abandons_the_action(manager, server):
    release = hold(server, "after the call was closed")
    orphans = orphan_queue(manager)
    call = manager.send_action(Action("Hold"), timeout=None)
    await server.wait_for_action("Hold")
    call.close()
    assert call.cancelled()
    release.set()
    assert (await asyncio.wait_for(orphans.get(), 5)).message == "after the call was closed"
    done = manager.ping()
    await done
    done.close()  # closing a finished call changes nothing
    assert done.result().get("Ping") == "Pong"


async def test_wait_for_times_it_out_and_forgets_it(manager, server):
    release = hold(server, "after wait_for gave up")
    orphans = orphan_queue(manager)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(manager.send_action(Action("Hold"), timeout=None), 0.05)
    release.set()
    assert (await asyncio.wait_for(orphans.get(), 5)).message == "after wait_for gave up"


async def test_the_deadline_fails_it_with_action_timeout(manager, server):
    hold(server, "never awaited")
    with pytest.raises(amiasync.ActionTimeout):
        await manager.send_action(Action("Hold"), timeout=0.05)


async def test_errors_are_raised_where_it_is_awaited_not_where_it_is_made(server):
    manager = amiasync.Manager()
    call = manager.send_action(core.Ping())  # not connected: no exception yet
    assert call.done()
    with pytest.raises(amiasync.InvalidState):
        await call
    not_an_action = manager.send_action({"Action": "Ping"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes an Action"):
        await asyncio.create_task(not_an_action)
    assert not not_an_action.cancel()  # done already: nothing to forget


async def test_an_invalid_action_fails_the_call_and_nothing_is_written(manager, server):
    call = manager.send_action(Action("Ping", action_id="x" * 101))
    with pytest.raises(amiasync.InvalidAction):
        await call
    assert await manager.ping()  # the link goes on
    assert [a["Action"] for a in server.received].count("Ping") == 1


async def test_check_fails_after_the_actions_own_check(manager, server):
    server.on_action("Ping", lambda session, action: {"Response": "Error", "Message": "no"})
    with pytest.raises(amiasync.ActionFailed, match="no"):
        await manager.ping()
    response = await manager.send_action(core.Ping())  # check=False: the error is returned
    assert not response.success


async def test_lost_link_fails_calls_in_flight_at_once(manager, server):
    server.on_action("Hold", lambda session, action: None)
    calls = [manager.send_action(Action("Hold"), timeout=60) for _ in range(3)]
    await server.wait_for_action("Hold")
    server.drop_connections()
    for call in calls:
        with pytest.raises(amiasync.ManagerSocketError):
            await asyncio.wait_for(call, 5)


async def test_a_finished_call_is_freed_at_once_not_by_the_garbage_collector(manager):
    # No cycle between the call and its pending record: memory stays flat
    # under many actions without waiting for gc to find them.
    await manager.ping()
    gc.disable()
    try:
        call = manager.ping()
        await call
        freed = weakref.ref(call)
        del call
        # The loop drops the handle that woke this task (its argument is the
        # call) once the task yields: one step, not a wait for anything.
        await asyncio.sleep(0)
        assert freed() is None
    finally:
        gc.enable()


async def test_a_task_cancelled_before_its_first_step_forgets_the_action(manager, server):
    # The review's case: create_task(call) then cancel() in the same loop
    # iteration. The task throws CancelledError into the call without ever
    # waiting on it: the call must be cancelled and the action forgotten.
    release = hold(server, "after a task that never ran")
    orphans = orphan_queue(manager)
    call = manager.send_action(Action("Hold"), timeout=None)
    task = asyncio.create_task(call)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.cancelled()
    await server.wait_for_action("Hold")
    release.set()
    assert (await asyncio.wait_for(orphans.get(), 5)).message == "after a task that never ran"


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="Python 3.9's Task.__wakeup frame (asyncio/tasks.py) holds the failed future "
    "its exception's traceback points back to: a cycle of asyncio's own",
)
@pytest.mark.parametrize("how", ["check", "task-failed", "task-cancelled"])
async def test_failures_leave_no_cycle_for_the_garbage_collector(manager, server, how):
    # An ActionFailed kept with its traceback tied the reader's frame (the
    # whole decoded batch) to the pending record; a task-driven call's
    # send/throw frames tied the error to the call. Both freed only by gc.
    server.on_action("Ping", lambda session, action: {"Response": "Error", "Message": "no"})
    server.on_action("Hold", lambda session, action: None)

    async def once() -> None:
        # try/except, not pytest.raises: its ExceptionInfo keeps the traceback
        # (and on Python 3.9 a cycle of pytest's own) alive.
        try:
            if how == "check":
                await manager.send_action(core.Ping(), check=True)
            elif how == "task-failed":
                await asyncio.create_task(manager.send_action(core.Ping(), check=True))
            else:
                task = asyncio.create_task(manager.send_action(Action("Hold"), timeout=None))
                await asyncio.sleep(0)  # one step: the task now waits on the call
                task.cancel()
                await task
        except (amiasync.ActionFailed, asyncio.CancelledError) as exc:
            expected = asyncio.CancelledError if how == "task-cancelled" else amiasync.ActionFailed
            assert isinstance(exc, expected)
        else:
            raise AssertionError("the call did not fail")

    await once()  # warm up: first-use caches are not garbage
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            await once()
        await asyncio.sleep(0)
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_run_coroutine_threadsafe_sends_from_another_thread(manager, server):
    # The standard way to use asyncio code from a thread: send_action() is
    # called in that thread (no running loop there), the manager's loop sends.
    loop = asyncio.get_running_loop()

    def in_a_thread() -> amiasync.Response:
        future = asyncio.run_coroutine_threadsafe(manager.send_action(core.Ping()), loop)
        return future.result(10)

    response = await asyncio.to_thread(in_a_thread)
    assert response.get("Ping") == "Pong"
    await server.wait_for_action("Ping")

    # Its errors cross the thread too, raised where the result is asked for.
    def wrong_from_a_thread() -> BaseException | None:
        call = manager.send_action({"Action": "Ping"})  # type: ignore[arg-type]
        return asyncio.run_coroutine_threadsafe(call, loop).exception(10)

    assert isinstance(await asyncio.to_thread(wrong_from_a_thread), TypeError)


async def test_a_nan_timeout_is_refused_not_taken_as_no_deadline(manager, server):
    with pytest.raises(ValueError, match="NaN"):
        await manager.send_action(core.Ping(), timeout=float("nan"))
    assert not [a for a in server.received if a.get("Action") == "Ping"]
