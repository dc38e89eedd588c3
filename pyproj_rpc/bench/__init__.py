"""Benchmarks: each measures a baseline in the same run and reports medians and ratios."""
