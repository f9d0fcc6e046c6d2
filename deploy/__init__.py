"""Deployment artifacts and the code that generates their status-shaped parts."""
