"""Where orders are kept: the protocol the services depend on, and its implementations."""

from .base import OrderRepository, Page, TeamLoads

__all__ = ["OrderRepository", "Page", "TeamLoads"]
