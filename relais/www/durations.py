"""A duration as pages and messages say it."""

from datetime import timedelta


def said(duration: timedelta) -> str:
    """« 4 heures », « 1 heure », « 10 minutes »: in hours when whole, else in minutes."""
    minutes = int(duration.total_seconds() // 60)
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} heure{'s' if hours > 1 else ''}"
    return f"{minutes} minute{'s' if minutes > 1 else ''}"
