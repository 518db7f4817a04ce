"""The sandbox vendor: a local stand-in for a real online-proctoring vendor.

Two parts, so that an integrator can run proctorhub's whole flow on one machine:

- :class:`SandboxBackend`, the review backend (entry point ``sandbox``): the vendor posts
  proctorhub's normalised review itself, plus ``attempt_code`` and optionally ``external_id``;
- the sandbox *tool* (``proctorhub-sandbox serve``, :mod:`proctorhub_sandbox.app`): an LTI 1.3
  proctoring tool (1EdTech Proctoring Services 1.0) that answers proctorhub's launches and
  posts signed reviews back to it.
"""

from .backend import SandboxBackend

__all__ = ["SandboxBackend"]
