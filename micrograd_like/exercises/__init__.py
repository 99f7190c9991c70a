"""Exercises that grade themselves: a learner's derivative, backward pass, network and training step, checked and drawn.

``check_derivative``, ``check_topological_order`` and ``check_backward`` (notebooks 12
and 13), ``check_neuron``, ``check_mlp`` and ``check_training_step`` (notebook 15) return
a ``Report``; ``bugs`` is the zoo of classic mistakes, each with the check that names it.
hypothesis and graphviz are imported only when a check runs or a picture is drawn.
"""

from . import bugs
from .checks import MISTAKES, check_backward, check_derivative, check_topological_order
from .nn_checks import check_mlp, check_neuron, check_training_step
from .report import Counterexample, Report

__all__ = ["check_derivative", "check_backward", "check_topological_order", "check_neuron", "check_mlp",
           "check_training_step", "Report", "Counterexample", "MISTAKES", "bugs"]
