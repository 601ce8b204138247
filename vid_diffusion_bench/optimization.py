"""Optimization profiles (precision, compile, memory savers) and their named levels."""

from app.engines.optimization import PROFILES, OptimizationProfile, get_profile

__all__ = ["PROFILES", "OptimizationProfile", "get_profile"]
