from flask import Blueprint

bp = Blueprint("consortia", __name__)
