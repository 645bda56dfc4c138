"""Monitoring: drift, live data quality, delayed-label and estimated performance, alerts.

A use-case slice: it reads decisions from the ledger and each kind's ``MonitorSpec``
(``bankml.governance.kinds``), and names no kind itself.
"""

from bankml.monitoring.alerts import AlertRecord, AlertRule, evaluate_rules, load_rules
from bankml.monitoring.drift import ColumnDrift, DriftConfig, DriftResult, detect_drift, psi
from bankml.monitoring.performance import estimate_performance, realised_performance
from bankml.monitoring.quality import DayQuality, TrainingProfile, check_day, profile_frame
from bankml.monitoring.service import DayResult, MonitoringService

__all__ = [
    "AlertRecord",
    "AlertRule",
    "ColumnDrift",
    "DayQuality",
    "DayResult",
    "DriftConfig",
    "DriftResult",
    "MonitoringService",
    "TrainingProfile",
    "check_day",
    "detect_drift",
    "estimate_performance",
    "evaluate_rules",
    "load_rules",
    "profile_frame",
    "psi",
    "realised_performance",
]
