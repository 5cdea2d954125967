"""The decision record: writing the decision log, reading log files back, the patient pseudonym."""
