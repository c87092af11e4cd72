"""One place that creates HiGHS solvers (highspy), silently.

The first ``highspy.Highs()`` of a process prints a banner on the C-level
stdout, which would corrupt ``--json`` output; that one is created with file
descriptor 1 pointed at /dev/null. Later instances print nothing once
``output_flag`` is off.
"""

from __future__ import annotations

import os
import sys

__all__ = ["new_highs"]

_BANNER_DONE = False


def new_highs():
    """A fresh ``highspy.Highs`` with ``output_flag`` off."""
    global _BANNER_DONE
    import highspy

    if _BANNER_DONE:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    return h
