"""Handover measurement campaigns: schemes x parameters x trials -> records -> statistics, plots, report."""
