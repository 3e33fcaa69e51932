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
