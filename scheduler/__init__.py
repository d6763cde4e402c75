"""Jobs that run at set times of the district's day (APScheduler 3.11)."""
