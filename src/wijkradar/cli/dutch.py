"""Dutch for the words Click and Typer print themselves: help, usage, errors, panel titles.

Typer translates some of its messages through ``gettext`` but ships no Dutch catalogue; the copy
of Click it carries writes the rest (usage, help option, errors) in English. :func:`install`
gives all of them the Dutch below, so ``--help`` says "Toon deze hulp en stop." and a mistyped
option gets a Dutch error, on every machine whatever its locale. A message not listed stays as
the library wrote it. The hooks are few and named (``rich_format_error``, ``help_option``,
``HelpFormatter.write_usage``); ``tests/test_cli.py`` notices when a Typer release moves them.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, Final

SINGULAR: Final = {
    "Show this message and exit.": "Toon deze hulp en stop.",
    "Show the version and exit.": "Toon de versie en stop.",
    "Usage:": "Gebruik:",
    "Options": "Opties",
    "Commands": "Opdrachten",
    "Arguments": "Argumenten",
    "Error": "Fout",
    "Error: {message}": "Fout: {message}",
    "Try '{command} {option}' for help.": "Zie '{command} {option}' voor hulp.",
    "Missing command.": "Geef een opdracht.",
    "Missing argument": "Ontbrekend argument",
    "Missing option": "Ontbrekende optie",
    "Missing parameter": "Ontbrekende waarde",
    "Missing {param_type}": "Ontbrekende {param_type}",
    "Missing parameter: {param_name}": "Ontbrekende waarde: {param_name}",
    "Invalid value: {message}": "Ongeldige waarde: {message}",
    "Invalid value for {param_hint}: {message}": "Ongeldige waarde voor {param_hint}: {message}",
    "No such option {name!r}.": "Onbekende optie {name!r}.",
    "No such command {name!r}.": "Onbekende opdracht {name!r}.",
    "Option {name!r} does not take a value.": "Optie {name!r} neemt geen waarde.",
    "Argument {name!r} takes {nargs} values.": "Argument {name!r} neemt {nargs} waarden.",
    "Choose from:\n\t{choices}": "Kies uit:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} is geen geldig getal ({number_type}).",
    "{value} is not in the range {range}.": "{value} ligt niet tussen {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} is geen ja/nee-waarde; gebruik {states}"
    ),
    "{name} {filename!r} does not exist.": "{name} {filename!r} bestaat niet.",
    "{name} {filename!r} is a file.": "{name} {filename!r} is een bestand.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} is een map.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} is niet leesbaar.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} is niet schrijfbaar.",
    "Could not open file {filename!r}: {message}": "Bestand {filename!r} kan niet geopend worden: {message}",
    "file": "bestand",
    "directory": "map",
    "path": "pad",
    "Aborted!": "Afgebroken.",
    "Aborted.": "Afgebroken.",
    "Do you want to continue?": "Doorgaan?",
    "default: {default}": "standaard: {default}",
    "env var: {var}": "omgevingsvariabele: {var}",
    "required": "verplicht",
    "(deprecated) ": "(verouderd) ",
    "[default: {}]": "[standaard: {}]",
    "[env var: {}]": "[omgevingsvariabele: {}]",
    "[required]": "[verplicht]",
    "Try [blue]'{command_path} {help_option}'[/] for help.": (
        "Zie [blue]'{command_path} {help_option}'[/] voor hulp."
    ),
    "unknown error": "onbekende fout",
}
PLURAL: Final = {
    "Did you mean {possibility}?": ("Bedoelde u {possibility}?", "(Bedoelde u een van: {possibilities}?)"),
    "Got unexpected extra argument ({args})": (
        "Onverwacht extra argument ({args})",
        "Onverwachte extra argumenten ({args})",
    ),
    "Option {name!r} requires an argument.": (
        "Optie {name!r} vraagt een waarde.",
        "Optie {name!r} vraagt {nargs} waarden.",
    ),
    "Takes {nargs} values but 1 was given.": (
        "Vraagt {nargs} waarden maar kreeg er 1.",
        "Vraagt {nargs} waarden maar kreeg er {len}.",
    ),
}
MODULES: Final = ("typer.core", "typer.rich_utils")  # those that translate through gettext
# Typer's own copy of Click writes its errors in English, without gettext: translated as printed.
ERRORS: Final = (
    (r"^No such option: (\S+)(.*)$", "Onbekende optie: {0}{1}"),
    (r"^Missing option '(.+)'\.", "Optie '{0}' ontbreekt."),
    (r"^Missing argument '(.+)'\.", "Argument '{0}' ontbreekt."),
    (r"^Missing parameter: (.+)$", "Waarde ontbreekt: {0}"),
    (
        r"^Invalid value for '?(.+?)'?: Value '(.*)' is not a valid (integer|float)\.$",
        "Ongeldige waarde voor '{0}': '{1}' is geen getal.",
    ),
    (
        r"^Invalid value for '?(.+?)'?: '(.*)' is not one of (.+)\.$",
        "Ongeldige waarde voor '{0}': '{1}' is geen van {2}.",
    ),
    (r"^Invalid value for '?(.+?)'?: (.+)$", "Ongeldige waarde voor '{0}': {1}"),
    (r"^Invalid value: (.+)$", "Ongeldige waarde: {0}"),
    (r"^Got unexpected extra argument\(s\) \((.+)\)$", "Onverwacht extra argument ({0})"),
    (r"^Option '(.+)' requires (.+)$", "Optie '{0}' vraagt een waarde."),
    (r"^Option '(.+)' does not take a value\.$", "Optie '{0}' neemt geen waarde."),
    (r"^Could not open file '(.+)': (.+)$", "Bestand '{0}' kan niet geopend worden: {1}"),
)
# What a value's check says, inside "Ongeldige waarde voor ...: ...".
REASONS: Final = (
    (r"^(?:Value error, )?'(.*)' is not one of (.+?)\.?$", "'{0}' is geen van {1}."),
    (r"^(?:Value error, )?Value '(.*)' is not a valid (.+?)\.?$", "'{0}' is geen geldige waarde."),
    (r"^Input should be a valid integer.*$", "geef een geheel getal, bijvoorbeeld 2028."),
    (r"^Input should be a valid (?:number|float).*$", "geef een getal."),
    (r"^Input should be a valid boolean.*$", "geef ja of nee."),
    (r"^(?:Value error, )?(?:File|Path|Directory) '(.+)' does not exist\.?$", "'{0}' bestaat niet."),
)
HELP_OPTION: Final = "Toon deze hulp en stop."
USAGE: Final = "Gebruik: "
USAGE_WORDS: Final = (("[OPTIONS]", "[OPTIES]"), ("COMMAND [ARGS]...", "OPDRACHT [ARGUMENTEN]..."))
# What Typer writes beside an option as its Python type (``<str>``, ``<list[Path]>``): a Dutch word
# for the kind of value instead; ``None``: nothing (a flag takes no value).
TYPES: Final[dict[str, str | None]] = {
    "str": "TEKST",
    "int": "GETAL",
    "float": "GETAL",
    "path": "PAD",
    "file": "BESTAND",
    "dir": "MAP",
    "datetime": "DATUM",
    "bool": None,
}
PANELS: Final = {  # typer.rich_utils keeps these as constants rather than through gettext
    "ARGUMENTS_PANEL_TITLE": "Argumenten",
    "COMMANDS_PANEL_TITLE": "Opdrachten",
    "OPTIONS_PANEL_TITLE": "Opties",
    "ERRORS_PANEL_TITLE": "Fout",
    "ABORTED_TEXT": "Afgebroken.",
    "DEFAULT_STRING": "[standaard: {}]",
    "ENVVAR_STRING": "[omgevingsvariabele: {}]",
    "REQUIRED_LONG_STRING": "[verplicht]",
    "DEPRECATED_STRING": "(verouderd) ",
    "RICH_HELP": "Zie [blue]'{command_path} {help_option}'[/] voor hulp.",
}


def gettext_nl(message: str) -> str:
    """Return the Dutch for one of Click's or Typer's messages (the message itself when unknown).

    >>> gettext_nl("Show this message and exit."), gettext_nl("something else")
    ('Toon deze hulp en stop.', 'something else')
    """
    return SINGULAR.get(message, message)


def ngettext_nl(singular: str, plural: str, n: int) -> str:
    """Return the Dutch singular or plural of a counted message."""
    one, many = PLURAL.get(singular, (singular, plural))
    return one if n == 1 else many


def error_nl(message: str) -> str:
    """Return the Dutch for an error of Typer's Click (the message itself when unknown).

    >>> error_nl("Missing option '--target'."), error_nl("No such option: --db")
    ("Optie '--target' ontbreekt.", 'Onbekende optie: --db')
    """
    for pattern, dutch in ERRORS:
        found = re.match(pattern, message, flags=re.DOTALL)
        if found:
            return dutch.format(*found.groups()[:-1], _reason(found.groups()[-1]))
    return message


def _reason(text: str | None) -> str:
    if text is None:
        return ""
    text = re.sub(r"\(Possible options: (.+)\)", r"(bedoelde u een van: \1?)", text)
    text = re.sub(r"Did you mean (.+)\?", r"Bedoelde u \1?", text)
    for pattern, dutch in REASONS:
        found = re.match(pattern, text, flags=re.DOTALL)
        if found:
            return dutch.format(*found.groups())
    return text


def type_nl(label: str) -> str | None:
    """Return the Dutch word Typer's ``<type>`` label stands for; choices stay as they are.

    >>> type_nl("<str>"), type_nl("<list[Path]>"), type_nl("<table|csv|json>"), type_nl("<bool>")
    ('TEKST', 'PAD …', 'table|csv|json', None)
    """
    bare = label.removeprefix("<").removesuffix(">")
    repeated = re.fullmatch(r"list\[(.+)\]", bare)
    if repeated:
        one = type_nl(repeated.group(1).lower())
        return None if one is None else f"{one} …"
    return TYPES.get(bare, bare)


def install() -> None:
    """Make Typer (and its copy of Click) speak Dutch in this process."""
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            setattr(module, "_", gettext_nl)  # noqa: B010  # the module's own name for gettext
        if hasattr(module, "ngettext"):
            setattr(module, "ngettext", ngettext_nl)  # noqa: B010
    rich_utils: Any = importlib.import_module("typer.rich_utils")
    for constant, text in PANELS.items():
        setattr(rich_utils, constant, text)
    english_error = rich_utils.rich_format_error

    def dutch_error(exc: Any) -> None:
        message = error_nl(exc.format_message())
        exc.format_message = lambda: message
        english_error(exc)

    rich_utils.rich_format_error = dutch_error
    decorators: Any = importlib.import_module("typer._click.decorators")
    english_help = decorators.help_option

    def dutch_help(param_decls: list[str]) -> Callable[[Any], Any]:
        add = english_help(param_decls)

        def decorate(command: Any) -> Any:
            command = add(command)
            command.params[-1].help = HELP_OPTION
            return command

        return decorate

    decorators.help_option = dutch_help
    formatting: Any = importlib.import_module("typer._click.formatting")
    english_usage = formatting.HelpFormatter.write_usage

    def dutch_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, dutch in USAGE_WORDS:
            args = args.replace(english, dutch)
        args = re.sub(r"\{([A-Z]+)\}", r"\1", args)  # Typer's {PAD} for an argument: PAD, as Click writes it
        english_usage(self, prog, args, USAGE if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = dutch_usage
    core: Any = importlib.import_module("typer.core")
    python_type = core._TyperParameter.display_type

    def dutch_type(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False):
            return None
        return type_nl(python_type(self, ctx))

    core._TyperParameter.display_type = dutch_type
