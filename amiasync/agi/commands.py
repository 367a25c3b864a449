"""Every AGI command Asterisk 22.10.1 documents, as a typed method.

Generated from Asterisk's XML documentation by ``scripts/generate_agi.py``
(spec: ``scripts/agi_catalogue.json``); do not edit by hand. The methods live
on :class:`~amiasync.agi.AGI`, which implements ``_run`` and ``_value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .codec import AGIResult

__all__ = ["AGICommands", "AGIArgument", "COMMAND_NAMES"]

#: What a command argument may be; None leaves it (and every later one) out.
AGIArgument = Union[str, int, None]

#: Every documented command, as Asterisk spells it in its documentation.
COMMAND_NAMES = (
    "answer",
    "asyncagi break",
    "channel status",
    "control stream file",
    "database del",
    "database deltree",
    "database get",
    "database put",
    "exec",
    "get data",
    "get full variable",
    "get option",
    "get variable",
    "gosub",
    "hangup",
    "noop",
    "receive char",
    "receive text",
    "record file",
    "say alpha",
    "say date",
    "say datetime",
    "say digits",
    "say number",
    "say phonetic",
    "say time",
    "send image",
    "send text",
    "set autohangup",
    "set callerid",
    "set context",
    "set extension",
    "set music",
    "set priority",
    "set variable",
    "speech activate grammar",
    "speech create",
    "speech deactivate grammar",
    "speech destroy",
    "speech load grammar",
    "speech recognize",
    "speech set",
    "speech unload grammar",
    "stream file",
    "tdd mode",
    "verbose",
    "wait for digit",
)


class AGICommands:
    """The typed AGI commands; ``_run`` and ``_value`` are the AGI object's."""

    __slots__ = ()

    async def _run(self, command: str, args: Sequence[AGIArgument]) -> AGIResult:
        raise NotImplementedError

    async def _value(self, command: str, args: Sequence[AGIArgument]) -> str | None:
        raise NotImplementedError

    async def answer(self) -> AGIResult:
        """Answer channel.

        Sends ``ANSWER`` (since Asterisk 0.4.0).

        Answers channel if not already in answer state. Returns -1 on channel failure, or 0 if
        successful.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("ANSWER", ())

    async def asyncagi_break(self) -> AGIResult:
        """Interrupts Async AGI.

        Sends ``ASYNCAGI BREAK`` (since Asterisk 1.8.0).

        Interrupts expected flow of Async AGI commands and returns control to previous source
        (typically, the PBX dialplan).

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("ASYNCAGI BREAK", ())

    async def channel_status(self, channelname: AGIArgument = None) -> AGIResult:
        """Returns status of the connected channel.

        Sends ``CHANNEL STATUS`` (since Asterisk 0.4.0).

        Returns the status of the specified channelname. If no channel name is given then
        returns the status of the current channel.

        Return values:

        0: Channel is down and available.

        1: Channel is down, but reserved.

        2: Channel is off hook.

        3: Digits (or equivalent) have been dialed.

        4: Line is ringing.

        5: Remote end is ringing.

        6: Line is up.

        7: Line is busy.

        Args:
            channelname: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("CHANNEL STATUS", (channelname,))

    async def control_stream_file(
        self,
        filename: AGIArgument,
        escape_digits: AGIArgument,
        skipms: AGIArgument = None,
        ffchar: AGIArgument = None,
        rewchr: AGIArgument = None,
        pausechr: AGIArgument = None,
        offsetms: AGIArgument = None,
    ) -> AGIResult:
        """Sends audio file on channel and allows the listener to control the stream.

        Sends ``CONTROL STREAM FILE`` (since Asterisk 1.2.0).

        Send the given file, allowing playback to be controlled by the given digits, if any. Use
        double quotes for the digits if you wish none to be permitted. If offsetms is provided
        then the audio will seek to offsetms before play starts. Returns 0 if playback completes
        without a digit being pressed, or the ASCII numerical value of the digit if one was
        pressed, or -1 on error or if the channel was disconnected. Returns the position where
        playback was terminated as endpos.

        It sets the following channel variables upon completion:

        CPLAYBACKSTATUS: Contains the status of the attempt as a text string Values: SUCCESS,
        USERSTOPPED, REMOTESTOPPED, ERROR.

        CPLAYBACKOFFSET: Contains the offset in ms into the file where playback was at when it
        stopped. -1 is end of file.

        CPLAYBACKSTOPKEY: If the playback is stopped by the user this variable contains the key
        that was pressed.

        Args:
            filename: The file extension must not be included in the filename.
            escape_digits: Required.
            skipms: Optional.
            ffchar: Defaults to #
            rewchr: Defaults to *
            pausechr: Optional.
            offsetms: Offset, in milliseconds, to start the audio playback

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run(
            "CONTROL STREAM FILE",
            (
                filename,
                escape_digits,
                skipms,
                ffchar,
                rewchr,
                pausechr,
                offsetms,
            ),
        )

    async def database_del(self, family: AGIArgument, key: AGIArgument) -> AGIResult:
        """Removes database key/value.

        Sends ``DATABASE DEL`` (since Asterisk 0.4.0).

        Deletes an entry in the Asterisk database for a given family and key.

        Returns 1 if successful, 0 otherwise.

        Args:
            family: Required.
            key: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("DATABASE DEL", (family, key))

    async def database_deltree(self, family: AGIArgument, keytree: AGIArgument = None) -> AGIResult:
        """Removes database keytree/value.

        Sends ``DATABASE DELTREE`` (since Asterisk 0.4.0).

        Deletes a family or specific keytree within a family in the Asterisk database.

        Returns 1 if successful, 0 otherwise.

        Args:
            family: Required.
            keytree: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("DATABASE DELTREE", (family, keytree))

    async def database_get(self, family: AGIArgument, key: AGIArgument) -> str | None:
        """Gets database value.

        Sends ``DATABASE GET`` (since Asterisk 0.4.0).

        Retrieves an entry in the Asterisk database for a given family and key.

        Returns 0 if key is not set. Returns 1 if key is set and returns the variable in
        parenthesis.

        Example return code: 200 result=1 (testvariable)

        Args:
            family: Required.
            key: Required.

        Returns:
            The value, or None when there is none.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._value("DATABASE GET", (family, key))

    async def database_put(
        self,
        family: AGIArgument,
        key: AGIArgument,
        value: AGIArgument,
    ) -> AGIResult:
        """Adds/updates database value.

        Sends ``DATABASE PUT`` (since Asterisk 0.4.0).

        Adds or updates an entry in the Asterisk database for a given family, key, and value.

        Returns 1 if successful, 0 otherwise.

        Args:
            family: Required.
            key: Required.
            value: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("DATABASE PUT", (family, key, value))

    async def exec(self, application: AGIArgument, options: AGIArgument) -> AGIResult:
        """Executes a given Application.

        Sends ``EXEC`` (since Asterisk 0.4.0).

        Executes application with given options.

        Returns whatever the application returns, or -2 on failure to find application.

        Note: exec does not evaluate dialplan functions and variables unless it is explicitly
        enabled by setting the AGIEXECFULL variable to yes.

        Args:
            application: Required.
            options: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("EXEC", (application, options))

    async def get_data(
        self,
        file: AGIArgument,
        timeout: AGIArgument = None,
        maxdigits: AGIArgument = None,
    ) -> AGIResult:
        """Prompts for DTMF on a channel.

        Sends ``GET DATA`` (since Asterisk 0.4.0).

        Stream the given file, and receive DTMF data.

        Returns the digits received from the channel at the other end.

        Args:
            file: Required.
            timeout: Optional.
            maxdigits: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("GET DATA", (file, timeout, maxdigits))

    async def get_full_variable(
        self,
        expression: AGIArgument,
        channelname: AGIArgument = None,
    ) -> str | None:
        """Evaluates a channel expression.

        Sends ``GET FULL VARIABLE`` (since Asterisk 1.2.0).

        Evaluates the given expression against the channel specified by channelname, or the
        current channel if channelname is not provided.

        Unlike GET VARIABLE, the expression is processed in a manner similar to dialplan
        evaluation, allowing complex and built-in variables to be accessed, e.g. The time is
        ${EPOCH}

        Returns 0 if no channel matching channelname exists, 1 otherwise.

        Example return code: 200 result=1 (The time is 1578493800)

        Args:
            expression: Required.
            channelname: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            The value, or None when there is none.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._value("GET FULL VARIABLE", (expression, channelname))

    async def get_option(
        self,
        filename: AGIArgument,
        escape_digits: AGIArgument,
        timeout: AGIArgument = None,
    ) -> AGIResult:
        """Stream file, prompt for DTMF, with timeout.

        Sends ``GET OPTION`` (since Asterisk 1.2.0).

        Behaves similar to STREAM FILE but used with a timeout option.

        Args:
            filename: Required.
            escape_digits: Required.
            timeout: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("GET OPTION", (filename, escape_digits, timeout))

    async def get_variable(self, variablename: AGIArgument) -> str | None:
        """Gets a channel variable.

        Sends ``GET VARIABLE`` (since Asterisk 0.4.0).

        Returns 0 if variablename is not set. Returns 1 if variablename is set and returns the
        variable in parentheses.

        Example return code: 200 result=1 (testvariable)

        Args:
            variablename: Required.

        Returns:
            The value, or None when there is none.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._value("GET VARIABLE", (variablename,))

    async def gosub(
        self,
        context: AGIArgument,
        extension: AGIArgument,
        priority: AGIArgument,
        optional_argument: AGIArgument = None,
    ) -> AGIResult:
        """Cause the channel to execute the specified dialplan subroutine.

        Sends ``GOSUB``.

        Cause the channel to execute the specified dialplan subroutine, returning to the
        dialplan with execution of a Return().

        Args:
            context: Required.
            extension: Required.
            priority: Required.
            optional_argument: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("GOSUB", (context, extension, priority, optional_argument))

    async def hangup(self, channelname: AGIArgument = None) -> AGIResult:
        """Hangup a channel.

        Sends ``HANGUP`` (since Asterisk 0.4.0).

        Hangs up the specified channel. If no channel name is given, hangs up the current
        channel

        Args:
            channelname: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("HANGUP", (channelname,))

    async def noop(self) -> AGIResult:
        """Does nothing.

        Sends ``NOOP`` (since Asterisk 0.4.0).

        Does nothing.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("NOOP", ())

    async def receive_char(self, timeout: AGIArgument) -> AGIResult:
        """Receives one character from channels supporting it.

        Sends ``RECEIVE CHAR`` (since Asterisk 0.4.0).

        Receives a character of text on a channel. Most channels do not support the reception of
        text. Returns the decimal value of the character if one is received, or 0 if the channel
        does not support text reception. Returns -1 only on error/hangup.

        Args:
            timeout: The maximum time to wait for input in milliseconds, or 0 for infinite. Most
                channels

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("RECEIVE CHAR", (timeout,))

    async def receive_text(self, timeout: AGIArgument) -> AGIResult:
        """Receives text from channels supporting it.

        Sends ``RECEIVE TEXT`` (since Asterisk 1.2.0).

        Receives a string of text on a channel. Most channels do not support the reception of
        text. Returns -1 for failure or 1 for success, and the string in parenthesis.

        Args:
            timeout: The timeout to be the maximum time to wait for input in milliseconds, or 0
                for infinite.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("RECEIVE TEXT", (timeout,))

    async def record_file(
        self,
        filename: AGIArgument,
        format: AGIArgument,
        escape_digits: AGIArgument,
        timeout: AGIArgument,
        offset_samples: AGIArgument = None,
        beep: AGIArgument = None,
        silence: AGIArgument = None,
    ) -> AGIResult:
        """Records to a given file.

        Sends ``RECORD FILE`` (since Asterisk 0.4.0).

        Record to a file until a given dtmf digit in the sequence is received. Returns -1 on
        hangup or error. The format will specify what kind of file will be recorded. The timeout
        is the maximum record time in milliseconds, or -1 for no timeout. offset samples is
        optional, and, if provided, will seek to the offset without exceeding the end of the
        file. beep can take any value, and causes Asterisk to play a beep to the channel that is
        about to be recorded. silence is the number of seconds of silence allowed before the
        function returns despite the lack of dtmf digits or reaching timeout. silence value must
        be preceded by s= and is also optional.

        Args:
            filename: The destination filename of the recorded audio.
            format: The audio format in which to save the resulting file.
            escape_digits: The DTMF digits that will terminate the recording process.
            timeout: The maximum recording time in milliseconds. Set to -1 for no limit.
            offset_samples: Causes the recording to first seek to the specified offset before
                recording begins.
            beep: Causes Asterisk to play a beep as recording begins. This argument can take any
                value.
            silence: The number of seconds of silence that are permitted before the recording is
                terminated, regardless of the escape_digits or timeout arguments. If specified, this
                parameter must be preceded by s=.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run(
            "RECORD FILE",
            (
                filename,
                format,
                escape_digits,
                timeout,
                offset_samples,
                beep,
                None if silence is None else f"s={silence}",
            ),
        )

    async def say_alpha(self, number: AGIArgument, escape_digits: AGIArgument) -> AGIResult:
        """Says a given character string.

        Sends ``SAY ALPHA`` (since Asterisk 1.2.0).

        Say a given character string, returning early if any of the given DTMF digits are
        received on the channel. Returns 0 if playback completes without a digit being pressed,
        or the ASCII numerical value of the digit if one was pressed or -1 on error/hangup.

        Args:
            number: Required.
            escape_digits: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY ALPHA", (number, escape_digits))

    async def say_date(self, date: AGIArgument, escape_digits: AGIArgument) -> AGIResult:
        """Says a given date.

        Sends ``SAY DATE`` (since Asterisk 1.2.0).

        Say a given date, returning early if any of the given DTMF digits are received on the
        channel. Returns 0 if playback completes without a digit being pressed, or the ASCII
        numerical value of the digit if one was pressed or -1 on error/hangup.

        Args:
            date: Is number of seconds elapsed since 00:00:00 on January 1, 1970. Coordinated
                Universal Time (UTC).
            escape_digits: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY DATE", (date, escape_digits))

    async def say_datetime(
        self,
        time: AGIArgument,
        escape_digits: AGIArgument,
        format: AGIArgument = None,
        timezone: AGIArgument = None,
    ) -> AGIResult:
        """Says a given time as specified by the format given.

        Sends ``SAY DATETIME`` (since Asterisk 1.2.0).

        Say a given time, returning early if any of the given DTMF digits are received on the
        channel. Returns 0 if playback completes without a digit being pressed, or the ASCII
        numerical value of the digit if one was pressed or -1 on error/hangup.

        Args:
            time: Is number of seconds elapsed since 00:00:00 on January 1, 1970, Coordinated
                Universal Time (UTC)
            escape_digits: Required.
            format: Is the format the time should be said in. See voicemail.conf (defaults to
                ABdY 'digits/at' IMp).
            timezone: Acceptable values can be found in /usr/share/zoneinfo Defaults to machine
                default.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY DATETIME", (time, escape_digits, format, timezone))

    async def say_digits(self, number: AGIArgument, escape_digits: AGIArgument) -> AGIResult:
        """Says a given digit string.

        Sends ``SAY DIGITS`` (since Asterisk 0.4.0).

        Say a given digit string, returning early if any of the given DTMF digits are received
        on the channel. Returns 0 if playback completes without a digit being pressed, or the
        ASCII numerical value of the digit if one was pressed or -1 on error/hangup.

        Args:
            number: Required.
            escape_digits: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY DIGITS", (number, escape_digits))

    async def say_number(
        self,
        number: AGIArgument,
        escape_digits: AGIArgument,
        gender: AGIArgument = None,
    ) -> AGIResult:
        """Says a given number.

        Sends ``SAY NUMBER`` (since Asterisk 0.4.0).

        Say a given number, returning early if any of the given DTMF digits are received on the
        channel. Returns 0 if playback completes without a digit being pressed, or the ASCII
        numerical value of the digit if one was pressed or -1 on error/hangup.

        Args:
            number: Required.
            escape_digits: Required.
            gender: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY NUMBER", (number, escape_digits, gender))

    async def say_phonetic(self, string: AGIArgument, escape_digits: AGIArgument) -> AGIResult:
        """Says a given character string with phonetics.

        Sends ``SAY PHONETIC`` (since Asterisk 1.0.0).

        Say a given character string with phonetics, returning early if any of the given DTMF
        digits are received on the channel. Returns 0 if playback completes without a digit
        pressed, the ASCII numerical value of the digit if one was pressed, or -1 on
        error/hangup.

        Args:
            string: Required.
            escape_digits: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY PHONETIC", (string, escape_digits))

    async def say_time(self, time: AGIArgument, escape_digits: AGIArgument) -> AGIResult:
        """Says a given time.

        Sends ``SAY TIME`` (since Asterisk 1.0.0).

        Say a given time, returning early if any of the given DTMF digits are received on the
        channel. Returns 0 if playback completes without a digit being pressed, or the ASCII
        numerical value of the digit if one was pressed or -1 on error/hangup.

        Args:
            time: Is number of seconds elapsed since 00:00:00 on January 1, 1970. Coordinated
                Universal Time (UTC).
            escape_digits: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SAY TIME", (time, escape_digits))

    async def send_image(self, image: AGIArgument) -> AGIResult:
        """Sends images to channels supporting it.

        Sends ``SEND IMAGE`` (since Asterisk 0.4.0).

        Sends the given image on a channel. Most channels do not support the transmission of
        images. Returns 0 if image is sent, or if the channel does not support image
        transmission. Returns -1 only on error/hangup. Image names should not include
        extensions.

        Args:
            image: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SEND IMAGE", (image,))

    async def send_text(self, text_to_send: AGIArgument) -> AGIResult:
        """Sends text to channels supporting it.

        Sends ``SEND TEXT`` (since Asterisk 0.4.0).

        Sends the given text on a channel. Most channels do not support the transmission of
        text. Returns 0 if text is sent, or if the channel does not support text transmission.
        Returns -1 only on error/hangup.

        Args:
            text_to_send: Text consisting of greater than one word should be placed in quotes
                since the command only accepts a single argument.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SEND TEXT", (text_to_send,))

    async def set_autohangup(self, time: AGIArgument) -> AGIResult:
        """Autohangup channel in some time.

        Sends ``SET AUTOHANGUP`` (since Asterisk 0.4.0).

        Cause the channel to automatically hangup at time seconds in the future. Of course it
        can be hungup before then as well. Setting to 0 will cause the autohangup feature to be
        disabled on this channel.

        Args:
            time: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET AUTOHANGUP", (time,))

    async def set_callerid(self, number: AGIArgument) -> AGIResult:
        """Sets callerid for the current channel.

        Sends ``SET CALLERID`` (since Asterisk 0.4.0).

        Changes the callerid of the current channel.

        Args:
            number: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET CALLERID", (number,))

    async def set_context(self, desired_context: AGIArgument) -> AGIResult:
        """Sets channel context.

        Sends ``SET CONTEXT`` (since Asterisk 0.4.0).

        Sets the context for continuation upon exiting the application.

        Args:
            desired_context: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET CONTEXT", (desired_context,))

    async def set_extension(self, new_extension: AGIArgument) -> AGIResult:
        """Changes channel extension.

        Sends ``SET EXTENSION`` (since Asterisk 0.4.0).

        Changes the extension for continuation upon exiting the application.

        Args:
            new_extension: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET EXTENSION", (new_extension,))

    async def set_music(self, boolean: AGIArgument, class_: AGIArgument) -> AGIResult:
        """Enable/Disable Music on hold generator.

        Sends ``SET MUSIC`` (since Asterisk 0.5.0).

        Enables/Disables the music on hold generator. If class is not specified, then the
        default music on hold class will be used. This generator will be stopped automatically
        when playing a file.

        Always returns 0.

        Args:
            boolean: on off
            class_: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET MUSIC", (boolean, class_))

    async def set_priority(self, priority: AGIArgument) -> AGIResult:
        """Set channel dialplan priority.

        Sends ``SET PRIORITY`` (since Asterisk 0.4.0).

        Changes the priority for continuation upon exiting the application. The priority must be
        a valid priority or label.

        Args:
            priority: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET PRIORITY", (priority,))

    async def set_variable(self, variablename: AGIArgument, value: AGIArgument) -> AGIResult:
        """Sets a channel variable.

        Sends ``SET VARIABLE`` (since Asterisk 0.4.0).

        Sets a variable to the current channel.

        Args:
            variablename: Required.
            value: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SET VARIABLE", (variablename, value))

    async def speech_activate_grammar(self, grammar_name: AGIArgument) -> AGIResult:
        """Activates a grammar.

        Sends ``SPEECH ACTIVATE GRAMMAR`` (since Asterisk 1.6.0).

        Activates the specified grammar on the speech object.

        Args:
            grammar_name: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH ACTIVATE GRAMMAR", (grammar_name,))

    async def speech_create(self, engine: AGIArgument) -> AGIResult:
        """Creates a speech object.

        Sends ``SPEECH CREATE`` (since Asterisk 1.6.0).

        Create a speech object to be used by the other Speech AGI commands.

        Args:
            engine: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH CREATE", (engine,))

    async def speech_deactivate_grammar(self, grammar_name: AGIArgument) -> AGIResult:
        """Deactivates a grammar.

        Sends ``SPEECH DEACTIVATE GRAMMAR`` (since Asterisk 1.6.0).

        Deactivates the specified grammar on the speech object.

        Args:
            grammar_name: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH DEACTIVATE GRAMMAR", (grammar_name,))

    async def speech_destroy(self) -> AGIResult:
        """Destroys a speech object.

        Sends ``SPEECH DESTROY`` (since Asterisk 1.6.0).

        Destroy the speech object created by SPEECH CREATE.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH DESTROY", ())

    async def speech_load_grammar(
        self,
        grammar_name: AGIArgument,
        path_to_grammar: AGIArgument,
    ) -> AGIResult:
        """Loads a grammar.

        Sends ``SPEECH LOAD GRAMMAR`` (since Asterisk 1.6.0).

        Loads the specified grammar as the specified name.

        Args:
            grammar_name: Required.
            path_to_grammar: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH LOAD GRAMMAR", (grammar_name, path_to_grammar))

    async def speech_recognize(
        self,
        prompt: AGIArgument,
        timeout: AGIArgument,
        offset: AGIArgument = None,
    ) -> AGIResult:
        """Recognizes speech.

        Sends ``SPEECH RECOGNIZE`` (since Asterisk 1.6.0).

        Plays back given prompt while listening for speech and dtmf.

        Args:
            prompt: Required.
            timeout: Required.
            offset: Optional.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH RECOGNIZE", (prompt, timeout, offset))

    async def speech_set(self, name: AGIArgument, value: AGIArgument) -> AGIResult:
        """Sets a speech engine setting.

        Sends ``SPEECH SET`` (since Asterisk 1.6.0).

        Set an engine-specific setting.

        Args:
            name: Required.
            value: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH SET", (name, value))

    async def speech_unload_grammar(self, grammar_name: AGIArgument) -> AGIResult:
        """Unloads a grammar.

        Sends ``SPEECH UNLOAD GRAMMAR`` (since Asterisk 1.6.0).

        Unloads the specified grammar.

        Args:
            grammar_name: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("SPEECH UNLOAD GRAMMAR", (grammar_name,))

    async def stream_file(
        self,
        filename: AGIArgument,
        escape_digits: AGIArgument,
        sample_offset: AGIArgument = None,
    ) -> AGIResult:
        """Sends audio file on channel.

        Sends ``STREAM FILE`` (since Asterisk 0.4.0).

        Send the given file, allowing playback to be interrupted by the given digits, if any.
        Returns 0 if playback completes without a digit being pressed, or the ASCII numerical
        value of the digit if one was pressed, or -1 on error or if the channel was
        disconnected. If musiconhold is playing before calling stream file it will be
        automatically stopped and will not be restarted after completion.

        It sets the following channel variables upon completion:

        PLAYBACKSTATUS: The status of the playback attempt as a text string. Values: SUCCESS,
        FAILED.

        Args:
            filename: File name to play. The file extension must not be included in the
                filename.
            escape_digits: Use double quotes for the digits if you wish none to be permitted.
            sample_offset: If sample offset is provided then the audio will seek to sample
                offset before play starts.

        An optional argument left as None also leaves out every later one.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("STREAM FILE", (filename, escape_digits, sample_offset))

    async def tdd_mode(self, boolean: AGIArgument) -> AGIResult:
        """Toggles TDD mode (for the deaf).

        Sends ``TDD MODE`` (since Asterisk 0.4.0).

        Enable/Disable TDD transmission/reception on a channel. Returns 1 if successful, or 0 if
        channel is not TDD-capable.

        Args:
            boolean: on off

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("TDD MODE", (boolean,))

    async def verbose(self, message: AGIArgument, level: AGIArgument) -> AGIResult:
        """Logs a message to the asterisk verbose log.

        Sends ``VERBOSE`` (since Asterisk 0.4.0).

        Sends message to the console via verbose message system. level is the verbose level
        (1-4). Always returns 1

        Args:
            message: Required.
            level: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("VERBOSE", (message, level))

    async def wait_for_digit(self, timeout: AGIArgument) -> AGIResult:
        """Waits for a digit to be pressed.

        Sends ``WAIT FOR DIGIT`` (since Asterisk 0.4.0).

        Waits up to timeout milliseconds for channel to receive a DTMF digit. Returns -1 on
        channel failure, 0 if no digit is received in the timeout, or the numerical value of the
        ascii of the digit if one is received. Use -1 for the timeout value if you desire the
        call to block indefinitely.

        Args:
            timeout: Required.

        Returns:
            Asterisk's answer.

        Raises:
            AGICommandFailed: Asterisk answered 510 or 520.
            AGIHangup: The channel hung up.
        """
        return await self._run("WAIT FOR DIGIT", (timeout,))
