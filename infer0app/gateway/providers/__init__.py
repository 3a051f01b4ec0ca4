"""One module per wire format; see base.py for the types they share."""
