"""Alerts: saved searches and profile-based alerts sent by email, each match once."""
from flask import Blueprint

bp = Blueprint("alerts", __name__)
