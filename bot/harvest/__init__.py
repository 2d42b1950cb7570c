"""Periodic harvests of the city FAQ service: the schedule, the lease, the runs."""

from bot.harvest.harvester import Harvester, HarvestOutcome, HarvestScheduler, default_holder
from bot.schedule import parse_schedule

__all__ = ["HarvestOutcome", "HarvestScheduler", "Harvester", "default_holder", "parse_schedule"]
