"""Groundwork: answers from your documents, with verified citations."""
