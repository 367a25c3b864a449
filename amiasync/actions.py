"""Typed AMI actions, one class per action Asterisk 22 documents.

Placeholder until the generated catalogue lands: the actions the core needs.
"""

from __future__ import annotations

from .message import Action, HeaderValue

__all__ = [
    "Challenge",
    "Login",
    "Logoff",
    "Ping",
    "Command",
    "Events",
    "Filter",
    "Originate",
    "CoreShowChannels",
    "Status",
    "UserEvent",
]


class Challenge(Action):
    """Ask for a challenge for an MD5 login."""

    name = "Challenge"

    def __init__(
        self, authtype: HeaderValue = "MD5", *, action_id: str | None = None, **headers: HeaderValue
    ) -> None:
        super().__init__(action_id=action_id, AuthType=authtype, **headers)


class Login(Action):
    """Log in with a username and a plaintext secret or an MD5 key."""

    name = "Login"

    def __init__(
        self,
        username: HeaderValue,
        secret: HeaderValue = None,
        *,
        authtype: HeaderValue = None,
        key: HeaderValue = None,
        events: HeaderValue = None,
        action_id: str | None = None,
        **headers: HeaderValue,
    ) -> None:
        super().__init__(
            action_id=action_id,
            AuthType=authtype,
            Username=username,
            Secret=secret,
            Key=key,
            Events=events,
            **headers,
        )


class Logoff(Action):
    """End the session."""

    name = "Logoff"


class Ping(Action):
    """Keep the session alive; Asterisk answers ``Ping: Pong``."""

    name = "Ping"


class Command(Action):
    """Run a CLI command and return its output."""

    name = "Command"

    def __init__(
        self, command: HeaderValue, *, action_id: str | None = None, **headers: HeaderValue
    ) -> None:
        super().__init__(action_id=action_id, Command=command, **headers)


class Events(Action):
    """Set which classes of events the session receives."""

    name = "Events"

    def __init__(
        self, eventmask: HeaderValue, *, action_id: str | None = None, **headers: HeaderValue
    ) -> None:
        super().__init__(action_id=action_id, EventMask=eventmask, **headers)


class Filter(Action):
    """Add an event filter to the session."""

    name = "Filter"

    def __init__(
        self,
        filter: HeaderValue,
        *,
        operation: HeaderValue = "Add",
        action_id: str | None = None,
        **headers: HeaderValue,
    ) -> None:
        super().__init__(action_id=action_id, Operation=operation, Filter=filter, **headers)


class Originate(Action):
    """Originate a call."""

    name = "Originate"

    def __init__(
        self,
        channel: HeaderValue,
        *,
        exten: HeaderValue = None,
        context: HeaderValue = None,
        priority: HeaderValue = None,
        application: HeaderValue = None,
        data: HeaderValue = None,
        timeout: HeaderValue = None,
        callerid: HeaderValue = None,
        variable: HeaderValue = None,
        account: HeaderValue = None,
        earlymedia: HeaderValue = None,
        async_: HeaderValue = None,
        codecs: HeaderValue = None,
        channelid: HeaderValue = None,
        otherchannelid: HeaderValue = None,
        action_id: str | None = None,
        **headers: HeaderValue,
    ) -> None:
        super().__init__(
            action_id=action_id,
            Channel=channel,
            Exten=exten,
            Context=context,
            Priority=priority,
            Application=application,
            Data=data,
            Timeout=timeout,
            CallerID=callerid,
            Variable=variable,
            Account=account,
            EarlyMedia=earlymedia,
            Async=async_,
            Codecs=codecs,
            ChannelId=channelid,
            OtherChannelId=otherchannelid,
            **headers,
        )


class CoreShowChannels(Action):
    """List the active channels (an event list)."""

    name = "CoreShowChannels"


class Status(Action):
    """List channel status (an event list)."""

    name = "Status"

    def __init__(
        self,
        channel: HeaderValue = None,
        *,
        variables: HeaderValue = None,
        allvariables: HeaderValue = None,
        action_id: str | None = None,
        **headers: HeaderValue,
    ) -> None:
        super().__init__(
            action_id=action_id,
            Channel=channel,
            Variables=variables,
            AllVariables=allvariables,
            **headers,
        )


class UserEvent(Action):
    """Send an arbitrary event to every session."""

    name = "UserEvent"

    def __init__(
        self, userevent: HeaderValue, *, action_id: str | None = None, **headers: HeaderValue
    ) -> None:
        super().__init__(action_id=action_id, UserEvent=userevent, **headers)
