"""Zhengyun (政云): the e-government public cloud platform (R-N1, R-A1)."""

__version__ = "0.1.0"
