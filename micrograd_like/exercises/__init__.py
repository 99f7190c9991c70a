"""Exercises that grade themselves: a learner's derivative, topological sort or backward pass, checked and drawn.

``check_derivative``, ``check_topological_order`` and ``check_backward`` return a
``Report``; ``bugs`` is the zoo of classic wrong backward passes. hypothesis and
graphviz are imported only when a check runs or a picture is drawn.
"""

from . import bugs
from .checks import MISTAKES, check_backward, check_derivative, check_topological_order
from .report import Counterexample, Report

__all__ = ["check_derivative", "check_backward", "check_topological_order", "Report", "Counterexample", "MISTAKES",
           "bugs"]
