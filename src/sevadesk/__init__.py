"""sevadesk: a grievance desk for public agencies that serve citizens on social media."""

__version__ = "0.1.0"
