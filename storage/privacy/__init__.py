"""A person's data: `/mydata` (mydata.py) and `/forget` (forget.py)."""
