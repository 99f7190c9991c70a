"""micrograd_like: a scalar autograd engine and a small neural-network library for learning how networks train."""

from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .engine import Value, dot, grad, is_grad_enabled, logsumexp, no_grad, sum, topological_order
from .io import load, save

__version__ = "0.1.0"

__all__ = ["Value", "no_grad", "is_grad_enabled", "sum", "dot", "logsumexp", "topological_order", "grad", "save",
           "load", "detect_anomaly", "is_anomaly_enabled", "AnomalyError", "__version__"]
