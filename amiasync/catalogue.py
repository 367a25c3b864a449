"""What the generated catalogue is built from: documented actions and typed events.

:mod:`amiasync.actions` and :mod:`amiasync.events` are generated from Asterisk's
XML documentation (``scripts/generate_catalogue.py``); this module holds the
hand-written pieces they stand on, so that each action field and each event
header is declared once, as one line:

* :func:`param` declares an action parameter (``channel: HeaderValue =
  param("Channel", kw_only=False)``) on a :class:`DocumentedAction`, which
  type checkers read as a dataclass (``dataclass_transform``): they see the
  real signature, and so does ``inspect.signature()`` and ``help()``. At run
  time one ``__init__`` serves every action: it refuses an unknown keyword with
  a ``TypeError`` that names the closest parameters, and sends the fields in
  declaration order, then ``extra_headers``.
* :class:`header` declares a typed event accessor; :class:`DocumentedEvent`
  records an event's AMI name, module and version.
* :class:`LazyEventClasses` is :data:`amiasync.events.EVENT_CLASSES`: it imports
  the event classes on the first lookup, so ``import amiasync`` stays cheap.
* :func:`lazy_getattr` gives :mod:`amiasync.events` and :mod:`amiasync.core`
  their PEP 562 ``__getattr__``: a name is imported from the catalogue on first use.
* :class:`LoginAction` is what ``Login`` needs beyond its headers: the MD5 key
  from a challenge, and :class:`~amiasync.exceptions.ManagerAuthError` when
  Asterisk refuses.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, overload

from .auth import events_header, md5_key
from .exceptions import InvalidAction, ManagerAuthError
from .message import Action, Event, HeaderValue, Message, Response

if TYPE_CHECKING:
    import inspect

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
elif TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        """Python 3.9 and 3.10: the decorator only informs type checkers."""
        return lambda cls: cls


__all__ = [
    "param",
    "DocumentedAction",
    "LoginAction",
    "DocumentedEvent",
    "header",
    "LazyEventClasses",
    "lazy_getattr",
]

#: The default of a field that has none: the argument must be given.
_MISSING: Any = object()


class _Field:
    """One declared action parameter (made by :func:`param`)."""

    __slots__ = ("default", "header", "kw_only", "name", "required")

    def __init__(self, header: str | None, default: Any, kw_only: bool, required: bool) -> None:
        self.header = header
        self.default = default
        self.kw_only = kw_only
        self.required = required
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Action | None, owner: type) -> Any:
        # On an action, the field reads back the header it was sent as.
        if obj is None:
            return self
        return obj.get(self.header) if self.header else None


def param(
    header: str | None,
    *,
    default: Any = _MISSING,
    kw_only: bool = True,
    required: bool | None = None,
) -> Any:
    """Declare a parameter of a :class:`DocumentedAction`.

    Args:
        header: The AMI header the value is sent as; None for an argument the
            class consumes itself (``Login``'s ``challenge``).
        default: The value when the argument is not given; without one the
            argument is required. ``None`` leaves the header out.
        kw_only: False for a positional-or-keyword argument.
        required: Whether Asterisk needs the header (``None`` refused with
            :class:`~amiasync.exceptions.InvalidAction`); by default, when the
            argument has no default.

    Returns:
        The field declaration (typed ``Any`` so that it can stand for any type).
    """
    if required is None:
        required = default is _MISSING and header is not None
    return _Field(header, default, kw_only, required)


class _Signature:
    """``__signature__`` of an action class, computed from its fields when asked."""

    def __get__(self, obj: object, owner: type[_FieldsAction]) -> inspect.Signature:
        # Imported here: only help() and introspection need it.
        import inspect

        kinds = inspect.Parameter
        parameters = [
            kinds(
                name,
                kinds.KEYWORD_ONLY if field.kw_only else kinds.POSITIONAL_OR_KEYWORD,
                default=kinds.empty if field.default is _MISSING else field.default,
            )
            for name, field in owner._fields.items()
        ]
        parameters.sort(key=lambda p: p.kind)
        parameters += [
            kinds("extra_headers", kinds.KEYWORD_ONLY, default=None),
            kinds("action_id", kinds.KEYWORD_ONLY, default=None),
        ]
        return inspect.Signature(parameters)


def _suggest(owner: type[_FieldsAction], key: str) -> TypeError:
    """Return the error for an unknown keyword, naming the closest parameters."""
    import difflib  # only on this error path: it costs a few ms to import

    names = list(owner._fields)
    # Compare without case and underscores too: CallerID and callerid mean caller_id.
    folded = {name.replace("_", ""): name for name in names}
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    for match in difflib.get_close_matches(key.lower().replace("_", ""), list(folded), n=3):
        if folded[match] not in close:
            close.append(folded[match])
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    return TypeError(
        f"{owner.__name__}() got an unexpected keyword argument {key!r}{hint} "
        "(undocumented headers go in extra_headers={...})"
    )


@dataclass_transform(kw_only_default=True, field_specifiers=(param,))
class _FieldsAction(Action):
    """The machinery of :class:`DocumentedAction` (type checkers see it as a dataclass)."""

    #: The Asterisk module that provides the action, and the versions that introduced it.
    module: ClassVar[str] = ""
    since: ClassVar[str] = ""
    #: The headers the action cannot do without.
    required: ClassVar[tuple[str, ...]] = ()
    #: Python parameter name to AMI header, in declaration order.
    parameters: ClassVar[dict[str, str]] = {}
    _fields: ClassVar[dict[str, _Field]] = {}
    _positional: ClassVar[tuple[str, ...]] = ()
    #: Arguments without a default, and the defaults that send a header.
    _needed: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    __signature__: ClassVar[Any] = _Signature()

    def __init_subclass__(
        cls, *, ami_name: str = "", module: str = "", since: str = "", **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls._fields)
        fields.update((k, v) for k, v in vars(cls).items() if isinstance(v, _Field))
        cls._fields = fields
        cls._positional = tuple(k for k, f in fields.items() if not f.kw_only)
        cls._needed = tuple(k for k, f in fields.items() if f.default is _MISSING)
        cls._defaults = {
            k: f.default for k, f in fields.items() if f.default not in (None, _MISSING)
        }
        cls.parameters = {k: f.header for k, f in fields.items() if f.header}
        cls.required = tuple(f.header for f in fields.values() if f.required and f.header)
        cls.name, cls.module, cls.since = ami_name or cls.__name__, module, since

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        owner = type(self)
        extra: Mapping[str, HeaderValue] = kwargs.pop("extra_headers", None) or {}
        action_id = kwargs.pop("action_id", None)
        positional = owner._positional
        if len(args) > len(positional):
            raise TypeError(
                f"{owner.__name__}() takes {len(positional)} positional arguments "
                f"but {len(args)} were given"
            )
        values = dict(zip(positional, args))
        fields = owner._fields
        for key, value in kwargs.items():
            if key not in fields:
                raise _suggest(owner, key)
            if key in values:
                raise TypeError(f"{owner.__name__}() got multiple values for argument {key!r}")
            values[key] = value
        for key in owner._needed:
            if key not in values:
                raise TypeError(f"{owner.__name__}() missing required argument: {key!r}")
        for key, default in owner._defaults.items():
            values.setdefault(key, default)
        headers = self._headers(values) if values else {}
        if owner.required:
            given = {k.lower() for k, v in (*headers.items(), *extra.items()) if v is not None}
            for key in owner.required:
                if key.lower() not in given:
                    raise InvalidAction(f"{owner.name} needs {key}")
        headers.update(extra)
        super().__init__(owner.name, action_id=action_id, **headers)

    def _headers(self, values: dict[str, Any]) -> dict[str, HeaderValue]:
        """Map the arguments (by Python name) to the headers to send, in order."""
        headers: dict[str, HeaderValue] = {}
        for key, field in type(self)._fields.items():
            value = values.get(key)
            if value is not None and field.header is not None:
                headers[field.header] = value
        return headers


class DocumentedAction(_FieldsAction):
    """Base of the generated actions: an action with documented parameters.

    Subclasses declare each parameter once, with :func:`param`, and their
    module and versions as class keywords; the AMI name is the class name
    unless given as ``ami_name=`` (``name`` would clash with ``ABCMeta`` on
    Python 3.9)::

        class AbsoluteTimeout(DocumentedAction, module="builtin", since="0.5.0"):
            channel: HeaderValue = param("Channel", kw_only=False)
            timeout: HeaderValue = param("Timeout", kw_only=False)

    Every action also takes ``extra_headers`` (a mapping of headers the XML does
    not document, sent after the documented ones) and ``action_id``.

    Attributes:
        module: The Asterisk module that provides the action.
        since: The Asterisk versions that introduced it, comma-separated.
        required: The headers it cannot do without.
        parameters: Python parameter name to AMI header, in documented order.
    """

    if TYPE_CHECKING:
        # Every action's last two keywords; the shared __init__ takes them.
        extra_headers: Mapping[str, HeaderValue] | None = param(None, default=None)
        action_id: str | None = param(None, default=None)


class LoginAction(DocumentedAction):
    """What ``Login`` needs beyond its headers.

    With a ``challenge`` it sends ``AuthType: MD5`` and the key
    ``md5hex(challenge + secret)`` instead of the secret (``manager.c``,
    ``authenticate()``); ``events`` takes True, False or a list of classes as
    well as the header's text. A ``Response: Error`` to it raises
    :class:`~amiasync.exceptions.ManagerAuthError` with Asterisk's message.
    """

    def _headers(self, values: dict[str, Any]) -> dict[str, HeaderValue]:
        challenge = values.pop("challenge", None)
        values["events"] = events_header(values.get("events"))
        if challenge is not None:
            values["auth_type"] = "MD5"
            values["key"] = md5_key(challenge, values["secret"])
            values["secret"] = None
        return super()._headers(values)

    def check_response(self, response: Response) -> None:
        """Raise :class:`~amiasync.exceptions.ManagerAuthError` if Asterisk refused the login.

        Args:
            response: The final response to this action.

        Raises:
            ManagerAuthError: ``Response: Error``; the message is Asterisk's
                (``Authentication failed``).
        """
        if response.get("Response", "").lower() == "error":
            raise ManagerAuthError(response, f"Login refused: {response.message or 'Error'}")


class DocumentedEvent(Event):
    """Base of the generated events: records the AMI name, module and versions.

    ``class Hangup(DocumentedEvent, ChannelSnapshot, module="builtin", since="12.0.0")``
    sets ``Hangup.name`` (the class name, unless ``ami_name=`` is given),
    ``Hangup.module`` and ``Hangup.since``.
    """

    __slots__ = ()

    def __init_subclass__(
        cls, *, ami_name: str = "", module: str = "", since: str = "", **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.name, cls.module, cls.since = ami_name or cls.__name__, module, since


class header:  # noqa: N801 - reads as a field declaration in classes
    """Declare a typed accessor for one header on an event class.

    ``channel = header("Channel")`` makes ``event.channel`` return the first
    ``Channel`` value, or ``None`` when the event does not carry it.
    """

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    @overload
    def __get__(self, obj: None, owner: type) -> header: ...
    @overload
    def __get__(self, obj: Message, owner: type) -> str | None: ...
    def __get__(self, obj: Message | None, owner: type) -> header | str | None:
        if obj is None:
            return self
        return obj.get(self.key)


class LazyEventClasses(Mapping[str, "type[Event]"]):
    """A read-only mapping from event names to classes, imported on first use.

    The engine reads it with ``.get(name)`` for every event; after the first
    lookup ``get`` is the loaded dict's own method, so the laziness costs
    nothing afterwards.

    Args:
        module: The generated module whose ``_BY_NAME`` dict holds the classes.
    """

    def __init__(self, module: str) -> None:
        self._module = module
        self._classes: dict[str, type[Event]] | None = None

    def _load(self) -> dict[str, type[Event]]:
        classes = self._classes
        if classes is None:
            classes = self._classes = import_module(self._module)._BY_NAME
            # Shadows the method below on this instance: later lookups are a dict's.
            self.get = classes.get  # type: ignore[method-assign]
        return classes

    def get(self, key: str, default: Any = None) -> Any:
        """Return the class for an event name, or ``default`` (None) for names not listed."""
        return self._load().get(key, default)

    def __getitem__(self, key: str) -> type[Event]:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __bool__(self) -> bool:
        # Never empty; answering without loading keeps ``mapping or {}`` lazy.
        return True

    def __repr__(self) -> str:
        state = "loaded" if self._classes is not None else "not loaded yet"
        return f"<EVENT_CLASSES from {self._module} ({state})>"


def lazy_getattr(namespace: dict[str, Any], source: str) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` (PEP 562) that imports names from ``source``.

    A name listed in the module's ``__all__`` but not defined there is read from
    ``source`` (imported then) and kept in the module, so later reads are plain.

    Args:
        namespace: The module's ``globals()``.
        source: The module holding the names (``"amiasync.actions"``).

    Returns:
        The function to assign to ``__getattr__``.
    """

    def lookup(name: str) -> Any:
        if name in namespace["__all__"]:
            value = getattr(import_module(source), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    return lookup
