"""Render the report: find the templates (organisation first), render them sandboxed, dispatch on format.

Templates render in the shared bounded sandbox (text.py) with StrictUndefined,
so an organisation's template can neither reach Python internals, nor use a
misspelt variable, nor run away with time or memory; any template problem
becomes a located InputError (``file:line: message``, exit 2). HTML templates
autoescape. Markdown templates escape every ``{{ value }}`` for Markdown instead
(``|`` cannot break a table, ``<`` cannot open a tag); filters that build
Markdown or Mermaid syntax return Markup, which passes through unchanged.

Templates come only from the template folders: the workspace's ``templates/``
and those ``pmorules.toml`` names, which must lie inside the workspace (symlinks
resolved), then the built-in ones. An ``{% include %}`` cannot leave them either:
a template file that is a symlink leading outside the workspace, a FIFO or a
device is an error, so a report never carries a file of the machine it runs on.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import BaseLoader, Environment, TemplateError, TemplateNotFound, TemplateSyntaxError
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from ..analysis import Analysis
from ..diff import History
from ..mix import MixResult
from ..errors import Diagnostic, InputError, Location
from ..gcpause import gc_paused
from ..inputs import decode_text, folder_inside, read_input
from ..output import json_text
from ..paths import default_templates_dir
from ..text import make_environment, markdown_text, num, printable
from .context import CHARTS, build_context, chart_data, in_workspace
from .decisions import front_page_json
from .template_cache import template_cache
from .warm import Warm

FORMATS = ("html", "md", "json", "pdf")
_MERMAID_SPECIAL = str.maketrans({'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "\n": " ", "\r": " "})


def render_report(analysis: Analysis, mix: MixResult, fmt: str, history: History | None = None,
                  workbench: dict[str, Any] | None = None, appendix: bool = False, warm: Warm | None = None,
                  parts: dict[str, Any] | None = None) -> bytes:
    """The report of a finished analysis and its recommended mix, as html, md, json or pdf bytes: formatting only.

    ``history`` (the past reviews, already judged) adds the section "Since the last review" and the trend;
    ``workbench`` (what ``pmorules serve`` offers to change) adds the what-if panel to the HTML page.
    ``appendix`` prints the analyst's appendix (the network behind the findings, each finding's evidence, the
    rulebook, the run manifest): the HTML always shows it on screen, and its print stylesheet (so the PDF too)
    leaves it out unless asked (``report --appendix``). Markdown and JSON always have all of it.
    ``warm`` (``pmorules serve``'s) keeps compiled templates and drawn charts for the next rendering: same bytes.
    ``parts``: parts of the context already built (see ``build_context``).
    """
    if fmt not in FORMATS:
        raise InputError([Diagnostic(Location("--format"), f"unknown report format {fmt!r}", f"use one of {', '.join(FORMATS)}")])
    with gc_paused():  # rendering allocates a great deal; the collector kept rescanning the whole analysis
        context = build_context(analysis, mix, history=history, parts=parts) | {"with_appendix": appendix}
        if fmt == "json":
            return json_text(report_json(analysis, mix, context)).encode()
        if fmt == "md":
            return _render(analysis, "report.md.j2", context, markdown=True, warm=warm).encode()
        html = _render(analysis, "report.html.j2", context | {"charts": _charts(context, warm), "workbench": workbench},
                       markdown=False, warm=warm)
    return html.encode() if fmt == "html" else html_to_pdf(html)


def _charts(context: dict[str, Any], warm: Warm | None) -> dict[str, Markup]:
    """Every chart of the HTML report, by name: those ``warm`` holds for the same data as drawn then, the others
    drawn now."""
    charts = {name: Markup("") for name in CHARTS}
    for name, data in chart_data(context).items():
        charts[name] = warm.chart(name, partial(_draw, name), *data) if warm else _draw(name, *data)
    return charts


def _draw(name: str, *data: Any) -> Markup:
    from .charts import draw  # matplotlib: imported only when a chart is drawn here

    return draw(name, *data)


def report_json(analysis: Analysis, mix: MixResult, context: dict[str, Any]) -> dict[str, Any]:
    """The report as data, one shape per thing: the analysis as ``analyze --format json`` gives it, the
    recommended mix as ``mix --format json`` gives it, and what only the report computes (the timeline, the
    graph, the history of reviews, the front page's verdict and ranked decisions)."""
    data = analysis.to_json() | {
        "mix": mix.to_json(), "timeline": context["timeline"], "graph": context["graph"], "history": context["history"],
    } | front_page_json(context)
    # a report is shared: every place relative to the workspace and the workspace by its folder's name, as the
    # Markdown and HTML reports show them (analyze's JSON, a tool's output, names them as given)
    workspace, relative = analysis.kb.workspace, in_workspace(analysis.kb.workspace)
    itself = {workspace, str(Path(workspace)), str(Path(workspace).resolve())}
    return _placed(data, lambda text: context["workspace"] if text in itself else relative(text))


def _placed(value: Any, shown: Callable[[str], str]) -> Any:
    """``value`` with every text that is a place in the workspace (``/abs/ws/services.yaml:43``) shown relative."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {key: _placed(item, shown) for key, item in value.items()}
    if isinstance(value, list):
        return [_placed(item, shown) for item in value]
    return value


def html_to_pdf(html: str) -> bytes:
    """Print the HTML report with WeasyPrint (the optional ``pdf`` extra)."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise InputError([Diagnostic(Location("--format pdf"), "PDF output needs the pdf extra: pip install 'pmorules[pdf]'")]) from None
    except OSError as exc:  # WeasyPrint is installed but cannot load Pango
        raise InputError([Diagnostic(Location("--format pdf"), f"WeasyPrint cannot load its system libraries: {exc}")]) from None
    return HTML(string=html).write_pdf()


TemplateDir = tuple[Path, str, Path]  # folder, the name it is shown as, the folder its files must stay in
MOST_TEMPLATES = 1000  # template files `validate` compiles: an organisation has a handful


def template_dirs(analysis: Analysis) -> list[TemplateDir]:
    """Template folders in search order: workspace, config paths, defaults (see the module's docstring)."""
    workspace = Path(analysis.kb.workspace)
    config = analysis.config
    dirs: list[TemplateDir] = []
    if folder_inside(workspace / "templates", str(workspace / "templates"), workspace) is not None:
        dirs.append((workspace / "templates", str(workspace / "templates"), workspace))
    for rel in config.config.templates:
        folder = workspace / rel
        try:
            real = folder_inside(folder, str(folder), workspace)
        except InputError as exc:
            raise InputError([Diagnostic(config.where("templates"), f"template path {rel!r}: {d.message}", d.hint)
                              for d in exc.diagnostics]) from None
        if real is None:
            raise InputError([Diagnostic(config.where("templates"), f"template path {rel!r} is not a folder in {workspace}")])
        if real not in {d.resolve() for d, _, _ in dirs}:
            dirs.append((folder, str(folder), workspace))
    defaults = default_templates_dir()
    dirs.append((defaults, "templates", defaults))
    return dirs


class TemplateFileError(TemplateError):
    """A template file that cannot be used (outside the allowed folders, not a regular file, unreadable)."""

    def __init__(self, where: Location, message: str):
        super().__init__(message)
        self.where = where


class _FolderLoader(BaseLoader):
    """Templates from folders, first match wins; a file must be a regular file inside its folder's bound."""

    def __init__(self, dirs: list[TemplateDir]):
        self.dirs = dirs

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        pieces = split_template_path(template)  # refuses '..'
        for folder, shown, inside in self.dirs:
            path = folder.joinpath(*pieces)
            if not os.path.lexists(path):
                continue
            display = str(Path(shown).joinpath(*pieces))
            try:
                source = decode_text(read_input(path, display, inside=inside), display)
            except InputError as exc:
                first = exc.diagnostics[0]
                raise TemplateFileError(first.location, first.message) from None
            return source, str(path), lambda: True
        raise TemplateNotFound(template)


def environment(dirs: list[TemplateDir], markdown: bool, warm: Warm | None = None) -> SandboxedEnvironment:
    """The sandboxed environment of one format, with the report's filters."""
    options: dict[str, Any] = {"finalize": _md_finalize if markdown else _html_finalize}
    flavour = "md" if markdown else "html"
    disk = template_cache(default_templates_dir(), flavour)
    env = make_environment(
        loader=_FolderLoader(dirs),
        bytecode_cache=warm.templates(flavour, disk) if warm else disk,
        autoescape=not markdown,  # every template of the HTML flavour, whatever an organisation names its partials
        trim_blocks=True,
        lstrip_blocks=True,
        **options,
    )
    env.filters.update(show=show, md=md, code=code, mermaid=mermaid, css_string=css_string)
    return env


def check_templates(analysis: Analysis) -> list[str]:
    """Every template in the organisation's folders compiles (InputError with each problem located); the report's
    own templates are checked by its tests. A template shadowed by one earlier in the search order is not used.
    The organisation's template names (none: the report's own templates only)."""
    dirs = template_dirs(analysis)
    errors: list[Diagnostic] = []
    found = (Path(root, file).relative_to(folder).as_posix()
             for folder, _, _ in dirs[:-1] for root, _, files in os.walk(folder) for file in files if file.endswith(".j2"))
    names = sorted(set(itertools.islice(found, MOST_TEMPLATES)))  # a folder of a million files is not walked to its end
    flavours = {markdown: environment(dirs, markdown) for markdown in (True, False)}
    for name in names:
        try:
            flavours[".html" not in name].get_template(name)
        except TemplateFileError as exc:
            errors.append(Diagnostic(exc.where, exc.message or "cannot use this template file"))
        except TemplateSyntaxError as exc:
            errors.append(Diagnostic(Location(_shown(exc.filename, dirs), exc.lineno), f"template syntax error: {exc.message}"))
    if errors:
        raise InputError(errors)
    return names


def check_rendering(analysis: Analysis, mix: MixResult, history: History | None) -> None:
    """The report renders, in Markdown and HTML, with the organisation's templates (a template that compiles can
    still fail on the data: ``{{ 1/0 }}``, an attribute the context lacks): InputError, located, as ``report``."""
    errors: list[Diagnostic] = []
    for fmt in ("md", "html"):
        try:
            render_report(analysis, mix, fmt, history=history)
        except InputError as error:
            errors += [d for d in error.diagnostics if d not in errors]
    if errors:
        raise InputError(errors)


def _render(analysis: Analysis, name: str, context: dict[str, Any], markdown: bool, warm: Warm | None = None) -> str:
    dirs = template_dirs(analysis)
    env = environment(dirs, markdown, warm)
    try:
        text = env.get_template(name).render(context)
    except TemplateFileError as exc:
        raise InputError([Diagnostic(exc.where, exc.message or "cannot use this template file")]) from None
    except TemplateSyntaxError as exc:
        raise InputError([Diagnostic(Location(_shown(exc.filename, dirs), exc.lineno), f"template syntax error: {exc.message}")]) from None
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        where = _template_frame(exc.__traceback__, dirs)
        if where is None:
            raise
        message = f"no template {exc.name!r} in the template folders" if isinstance(exc, TemplateNotFound) else str(exc)
        raise InputError([Diagnostic(where, f"template error: {message}")]) from None
    return text if text.endswith("\n") else text + "\n"


def _shown(filename: str | None, dirs: list[TemplateDir]) -> str:
    """A template file as the user knows it: under the workspace, or the built-in templates."""
    if filename is None:
        return "templates"
    path = Path(filename)
    for folder, shown, _ in dirs:
        if path.is_relative_to(folder):
            return str(Path(shown) / path.relative_to(folder))
    return filename


def _template_frame(tb: TracebackType | None, dirs: list[TemplateDir]) -> Location | None:
    """The innermost template line of a traceback (Jinja rewrites frames to template files and lines)."""
    found = None
    folders = [folder for folder, _, _ in dirs]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") and any(Path(filename).is_relative_to(f) for f in folders):
            found = Location(_shown(filename, dirs), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _md_finalize(value: Any) -> Any:
    return value if isinstance(value, Markup) else md(value)


def _html_finalize(value: Any) -> Any:
    """Every ``{{ value }}`` of an HTML template: control characters shown as escapes (then autoescaped)."""
    return value if isinstance(value, Markup) else printable(value, lines=True)


def show(value: Any) -> str:
    """Any evidence value as text: numbers without noise, true/false, lists comma-separated, n/a for none."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    return num(value)


def md(value: Any) -> Markup:
    """Text made safe for Markdown: table pipes, emphasis, links, headings and HTML tags are escaped; one line."""
    return Markup(markdown_text(value))


def code(value: Any) -> Markup:
    """Inline Markdown code; a backtick becomes a quote so the span cannot be broken out of, a pipe is escaped for tables."""
    text = printable(str(value).replace("`", "'").replace("|", "\\|").replace("\n", " "))
    return Markup(f"`{text}`") if text else Markup("")


def css_string(value: Any) -> Markup:
    """A quoted CSS string (the printed footer's text): every character but letters, digits, space and a few
    punctuation marks becomes a CSS escape, so no value can end the string or the style element."""
    safe = set(" .,:-()")
    text = "".join(c if c.isalnum() and c.isascii() or c in safe else f"\\{ord(c):x} " for c in printable(str(value)))
    return Markup(f'"{text}"')


def mermaid(value: Any) -> Markup:
    """A quoted Mermaid label: quotes, angle brackets and ampersands become Mermaid entities."""
    return Markup('"' + printable(str(value).translate(_MERMAID_SPECIAL)) + '"')
