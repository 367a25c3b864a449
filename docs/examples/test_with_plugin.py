"""Tests for your own code against the embedded fake Asterisk: copy this file.

It needs ``pip install amiasync pytest pytest-asyncio`` and nothing else: the
``fake_asterisk`` and ``manager`` fixtures come with amiasync. It runs as it
is in pytest-asyncio's default strict mode (hence ``@pytest.mark.asyncio``
on each test; in auto mode the marks are optional).
"""

import pytest

import amiasync


# The code under test; in your project it lives in your package.
async def count_channels(manager: amiasync.Manager) -> int:
    """Return how many channels Asterisk reports."""
    response = await manager.send_action(amiasync.Action("CoreShowChannels"))
    return len(response.events)


async def queue_members(manager: amiasync.Manager, queue: str) -> list[str]:
    """Return the interfaces of a queue's members."""
    response = await manager.send_action(amiasync.Action("QueueStatus", Queue=queue))
    return [item["Location"] for item in response.events if item.event_name == "QueueMember"]


@pytest.mark.asyncio
async def test_no_channels_at_first(manager):
    assert await count_channels(manager) == 0


@pytest.mark.asyncio
@pytest.mark.fake_asterisk(call_duration=30)  # keyword arguments for FakeAsterisk
async def test_a_call_shows_up(manager):
    call = amiasync.Action("Originate", Channel="Local/100@amitest", Application="Wait")
    result = await manager.originate(call)
    assert result.success
    assert await count_channels(manager) == 2  # a Local channel has two halves


@pytest.mark.asyncio
async def test_a_scripted_event_list(fake_asterisk, manager):
    def queue_status(session, action):
        # A reply may be one message or several; each gets the action's ActionID.
        return [
            {"Response": "Success", "EventList": "start", "Message": "Queue status will follow"},
            {"Event": "QueueMember", "Queue": action["Queue"], "Location": "PJSIP/101"},
            {"Event": "QueueMember", "Queue": action["Queue"], "Location": "PJSIP/102"},
            {"Event": "QueueStatusComplete", "EventList": "Complete", "ListItems": "2"},
        ]

    fake_asterisk.on_action("QueueStatus", queue_status)
    assert await queue_members(manager, "support") == ["PJSIP/101", "PJSIP/102"]


@pytest.mark.asyncio
async def test_an_injected_event_reaches_the_iterator(fake_asterisk, manager):
    async with manager.events("UserEvent") as stream:
        fake_asterisk.emit({"Event": "UserEvent", "UserEvent": "Hello", "Who": "tests"})
        async for event in stream:
            assert event["Who"] == "tests"
            break
