"""The marker for errors a user can fix, shown as one line instead of a traceback."""


class UserFacingError(ValueError):
    """Bad input or a fixable fault: its message names the culprit and what is allowed.

    The project's ``kedro run`` (``image_vae.cli``) prints these as a single
    ``Error: …`` line; everything else keeps its traceback, because it is a bug.
    """


def find_user_error(error: BaseException | None) -> UserFacingError | None:
    """Returns the first ``UserFacingError`` in ``error``'s cause/context chain."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, UserFacingError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
