"""Statistics: counters kept per event, read by dashboards, exports and open data."""
