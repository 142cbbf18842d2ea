"""The HTML report's charts, drawn in a second process while the analysis and the optimiser work.

A fresh ``report`` spent a third of its time on matplotlib, after the mix and on one core: importing it
(0.4 s) and drawing five charts. With a second core free, ``report`` forks a drawer before it analyses: the
drawer imports matplotlib meanwhile, and draws each chart as soon as its data is known (four from the
analysis, while the parent solves the mix; the trend from the judged reviews). It runs the same drawing
functions on the same plain data, so the bytes are those drawn in process; the parent keeps what comes
back in a ``Warm`` by that data, and draws whatever did not come (a drawing that failed, a drawer that
died) itself, as before, meeting any error where it always did.

Requests and answers cross two pipes as pickles: both ends are this module, in a process forked from this
one, so nothing foreign is ever unpickled.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import struct
import sys
import threading
from typing import Any, BinaryIO

from markupsafe import Markup

from .warm import Warm, plain_key

_LENGTH = struct.Struct("!Q")


class ChartsAhead:
    """A forked drawer of the report's charts (see the module's docstring); the parent's side."""

    def __init__(self, pid: int, requests: BinaryIO, answers: BinaryIO):
        self.pid, self.requests = pid, requests
        self.asked: list[tuple[str, tuple]] = []
        self.ended = False
        # the answers are read as they come: a drawer whose answers filled the pipe (64 KiB, the graph of
        # 1,000 services alone) stopped drawing until the report asked for them, the trend chart with it
        self._answers: list[str | None] = []
        self._reader = threading.Thread(target=self._read, args=(answers,), name="pmorules-charts", daemon=True)
        self._reader.start()

    def _read(self, answers: BinaryIO) -> None:
        with answers:
            self._answers.extend(_received(answers))

    @classmethod
    def start(cls) -> ChartsAhead | None:
        """Fork the drawer; None where that would not pay or is not safe: off Linux, with one core, or with
        other threads running (a fork copies the locks they hold, held forever)."""
        if not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2 or threading.active_count() > 1:
            return None
        # both processes need these (the analysis and the optimiser; the drawings): imported once, before the fork,
        # not once on each side (a fifth of a second the drawer took from the optimiser's core)
        import networkx  # noqa: F401
        import numpy  # noqa: F401
        fds: list[int] = []
        try:
            fds += os.pipe()
            fds += os.pipe()
            pid = os.fork()
        except OSError:  # no descriptors or processes left: the report draws in process, as without a second core
            for fd in fds:
                os.close(fd)
            return None
        ask_read, ask_write, answer_read, answer_write = fds
        if pid == 0:  # the drawer: it never returns into the caller, and leaves without a word
            try:
                os.close(ask_write)
                os.close(answer_read)
                _draw(ask_read, answer_write)
            finally:
                os._exit(0)
        os.close(ask_read)
        os.close(answer_write)
        requests, answers = os.fdopen(ask_write, "wb"), os.fdopen(answer_read, "rb")
        try:
            return cls(pid, requests, answers)
        except RuntimeError:  # no thread left to read the answers with: the report draws in process
            requests.close()
            answers.close()
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None

    def ask(self, charts: dict[str, tuple]) -> None:
        """Have these charts drawn (name: data, as ``context.chart_data`` gives them; data that is not plain is
        left to the parent). The drawer reads at once, so this does not wait for a drawing."""
        for name, data in charts.items():
            if plain_key((name, data)) is None:
                continue
            try:
                _send(self.requests, (name, data))
            except OSError:  # the drawer is gone: the report draws the rest itself
                return
            self.asked.append((name, data))

    def into(self, warm: Warm) -> None:
        """Wait for the charts asked, keep each in ``warm``, and end the drawer."""
        try:
            self.requests.close()  # nothing more to draw: the drawer ends once it has answered
            self._reader.join()  # until the drawer has answered everything, or ended
            for (name, data), svg in zip(self.asked, self._answers):
                if svg is not None:
                    warm.keep(name, data, Markup(svg))
        finally:
            self.end()

    def end(self) -> None:
        """End the drawer (at once, if it is still drawing) and reap it; again is harmless."""
        if self.ended:
            return
        self.ended = True
        try:
            self.requests.close()
        except OSError:
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self._reader.join()  # the drawer's end closed the pipe: the reader has ended, or ends now


def _draw(ask_fd: int, answer_fd: int) -> None:
    """The drawer's work: read requests as they come (in a thread, so the parent never waits on a drawing),
    draw them in order, answer each with its SVG text, or None when drawing it failed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to answer; this process ends with it
    pending: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def receive() -> None:
        with os.fdopen(ask_fd, "rb") as requests:
            for request in _received(requests):
                pending.put(request)
        pending.put(None)

    threading.Thread(target=receive, daemon=True).start()
    from .charts import DRAWINGS  # matplotlib: imported here while the parent analyses

    with os.fdopen(answer_fd, "wb") as answers:
        while (request := pending.get()) is not None:
            name, data = request
            try:
                svg: str | None = str(DRAWINGS[name](*data))
            except Exception:  # noqa: BLE001 - the parent draws it again and reports what goes wrong there
                svg = None
            _send(answers, svg)


def _send(stream: BinaryIO, value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _received(stream: BinaryIO):
    """The values sent down a pipe, until it closes (a cut-off value ends it too)."""
    while True:
        head = stream.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return
        payload = stream.read(_LENGTH.unpack(head)[0])
        try:
            yield pickle.loads(payload)
        except (pickle.UnpicklingError, EOFError, ValueError):
            return
