"""Bulk re-keying of stored mail (mbox, Maildir): scan, re-key, journal, workers."""
