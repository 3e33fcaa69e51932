"""The exceptions neurona raises for input that is at fault.

Every class derives from :class:`ValueError`, so code that already catches
``ValueError`` keeps working; the command line turns any of them into one
line on stderr and exit status 2.
"""


class NeuronaError(ValueError):
    """Base class: the input (data, option, file) is at fault, not neurona."""


class ModelFileError(NeuronaError):
    """A model file is missing, malformed, of another format or inconsistent."""


class RunDirectoryError(NeuronaError):
    """A run directory cannot be created without overwriting something."""


class OptionError(NeuronaError):
    """A setting is out of range or contradicts another one (e.g. ``test_size=1.5``)."""


class SettingError(OptionError):
    """One named setting is out of range: ``"<name> <problem>"``.

    ``parameter`` is the library's name of the setting and ``problem`` the rest of
    the sentence, so that the command line can say the same with its flag instead
    (:meth:`as_option`).
    """

    def __init__(self, parameter: str, problem: str):
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter
        self.problem = problem

    def as_option(self, option: str) -> "SettingError":
        """The same error, naming ``option`` (e.g. ``--batch-size``) instead."""
        return SettingError(option, self.problem)


class OutputFileError(NeuronaError):
    """An output file exists (and ``force`` was not given) or cannot be written."""


class DataError(NeuronaError):
    """Base class of the problems found in a data file.

    ``path``, ``column`` and ``line`` say where, when known (``line`` counts
    the lines of a text file from 1, the header included; for Parquet and
    NumPy files it is the row number, from 1).
    """

    def __init__(self, message: str, *, path=None, column: str | None = None,
                 line: int | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.column = column
        self.line = line


class DataFileError(DataError):
    """A data file is missing, unreadable, empty, corrupt or not well-formed."""


class ColumnError(DataError):
    """Column names or types: blank, duplicate, missing or not numeric."""


class DataValueError(DataError):
    """A cell neurona cannot train on (text, NaN, infinity), or a constant feature."""


class TargetError(DataError):
    """The target column does not describe two classes (one class, or more than two)."""


class ExportError(NeuronaError):
    """A model cannot be written in another format: a part of it the format cannot
    express, or the format's package is not installed."""
