"""Meeting reminders: the scheduler, the sending, /remind and /reminders."""
